// The chat page: UI only. Connection, resume and dedupe live in chat-client.js.
import { ChatClient, getDevToken } from "./chat-client.js";

const $ = (id) => document.getElementById(id);
const ui = {
  signInForm: $("sign-in-form"), userName: $("user-name"), signedIn: $("signed-in"), who: $("who"), signOut: $("sign-out"),
  connection: $("connection"), app: $("app"), newConversation: $("new-conversation"), conversations: $("conversations"),
  title: $("conversation-title"), messages: $("messages"), loadEarlier: $("load-earlier"), status: $("status"), composer: $("composer"),
  input: $("composer-input"), send: $("send"), stop: $("stop"), error: $("error"),
};
const statusWords = { streaming: "Streaming…", completed: "Completed", cancelled: "Cancelled", failed: "Failed", interrupted: "Interrupted" };
const connectionWords = { connecting: "Connecting…", connected: "Connected", reconnecting: "Connection lost, reconnecting…", disconnected: "Disconnected" };
let client = null;
let oldestPosition = null; // of the first message shown: "Load earlier messages" pages back from it
let session = JSON.parse(localStorage.getItem("chatstreaming.session") ?? "null");

function showError(error) {
  const text = String(error?.message ?? error).replace(/^.*HubException: /, "");
  ui.error.textContent = text;
}

async function token() {
  if (!session || Date.parse(session.expiresAt) - Date.now() < 60_000) {
    const issued = await getDevToken("", session.userName);
    session = { userName: session.userName, accessToken: issued.accessToken, expiresAt: issued.expiresAt };
    localStorage.setItem("chatstreaming.session", JSON.stringify(session));
  }
  return session.accessToken;
}

function newMessageElement(id, role) {
  const li = document.createElement("li");
  li.dataset.messageId = id;
  li.className = role;
  li.append(Object.assign(document.createElement("span"), { className: "text" }));
  if (role === "assistant") li.append(Object.assign(document.createElement("span"), { className: "badge" }));
  return li;
}

function messageElement(id, role) {
  let li = ui.messages.querySelector(`li[data-message-id="${id}"]`);
  if (!li) {
    li = newMessageElement(id, role);
    ui.messages.append(li);
  }
  return li;
}

function showEarlier(page) {
  oldestPosition = page.messages[0]?.position ?? oldestPosition;
  ui.loadEarlier.hidden = !page.hasMoreBefore;
}

async function loadEarlier() {
  const page = await client.loadEarlier(oldestPosition);
  const older = document.createDocumentFragment();
  for (const m of page.messages) {
    const li = newMessageElement(m.id, m.role);
    if (m.role === "user") li.querySelector(".text").textContent = m.content;
    older.append(li);
  }
  ui.messages.prepend(older); // in place first, so the answers below render into their own rows
  await client.applyMessages(page.messages);
  showEarlier(page);
}

function renderUser(message) {
  messageElement(message.id, "user").querySelector(".text").textContent = message.content;
}

function renderAnswer(answer) {
  if (answer.conversationId !== client.conversationId) return;
  const li = messageElement(answer.messageId, "assistant");
  li.dataset.status = answer.status;
  li.querySelector(".text").textContent = answer.text;
  const reason = answer.finishReason && answer.finishReason !== "stop" ? ` (${answer.finishReason})` : "";
  li.querySelector(".badge").textContent = `${statusWords[answer.status]}${reason}${answer.error ? `: ${answer.error}` : ""}`;
  li.scrollIntoView({ block: "end" });
  const streaming = [...client.answers.values()].some((a) => a.conversationId === client.conversationId && a.status === "streaming");
  ui.stop.disabled = !streaming;
  ui.status.textContent = streaming ? statusWords.streaming : statusWords[answer.status];
}

async function refreshConversations() {
  const conversations = await client.listConversations();
  ui.conversations.replaceChildren(...conversations.map((c) => {
    const li = document.createElement("li");
    const button = Object.assign(document.createElement("button"), { type: "button", textContent: c.title });
    button.dataset.conversationId = c.id;
    button.setAttribute("aria-current", String(c.id === client.conversationId));
    button.addEventListener("click", () => openConversation(c.id));
    li.append(button);
    return li;
  }));
}

async function openConversation(id) {
  ui.error.textContent = "";
  ui.messages.replaceChildren();
  const snapshot = await client.open(id);
  if (client.conversationId !== id) return; // another conversation was opened meanwhile (a click during a reload): it renders itself
  location.hash = `c=${id}`;
  ui.title.textContent = snapshot.conversation.title;
  for (const message of snapshot.messages) {
    if (message.role === "user") renderUser(message);
    else renderAnswer(client.answers.get(message.id));
    // In the snapshot's order: applying the snapshot rendered its answers before this loop reached their questions.
    ui.messages.append(messageElement(message.id, message.role));
  }
  oldestPosition = null;
  showEarlier(snapshot);
  ui.input.disabled = false;
  ui.input.focus();
  updateSend();
  await refreshConversations();
}

function updateSend() { ui.send.disabled = ui.input.disabled || ui.input.value.trim() === ""; }

async function startSession() {
  ui.signInForm.hidden = true;
  ui.signedIn.hidden = false;
  ui.app.hidden = false;
  ui.who.textContent = session.userName;
  client = new ChatClient({
    accessTokenFactory: token,
    onAnswer: renderAnswer,
    onMessageAdded: (m) => { if (m.conversationId === client.conversationId) renderUser(m); refreshConversations().catch(showError); },
    onConnectionState: (state) => { ui.connection.textContent = connectionWords[state]; },
    onError: showError,
  });
  await client.start();
  const fromHash = /c=([0-9a-f-]{36})/.exec(location.hash)?.[1];
  await refreshConversations();
  if (fromHash) await openConversation(fromHash).catch(showError);
}

ui.signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  session = { userName: ui.userName.value.trim(), accessToken: null, expiresAt: new Date(0).toISOString() };
  try { await token(); await startSession(); } catch (e) { showError(e); }
});

ui.signOut.addEventListener("click", async () => {
  localStorage.removeItem("chatstreaming.session");
  await client?.stop();
  location.hash = "";
  location.reload();
});

ui.newConversation.addEventListener("click", async () => {
  try {
    const conversation = await client.createConversation(`Conversation ${new Date().toLocaleTimeString()}`);
    await openConversation(conversation.id);
  } catch (e) { showError(e); }
});

ui.loadEarlier.addEventListener("click", async () => {
  try { await loadEarlier(); } catch (e) { showError(e); }
});

ui.input.addEventListener("input", updateSend);
ui.input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.composer.addEventListener("submit", async (event) => {
  event.preventDefault();
  const content = ui.input.value.trim();
  if (!content) return;
  ui.error.textContent = "";
  ui.input.value = "";
  updateSend();
  try { await client.send(content); } catch (e) { ui.input.value = content; updateSend(); showError(e); }
});

ui.stop.addEventListener("click", async () => {
  const streaming = [...client.answers.values()].filter((a) => a.conversationId === client.conversationId && a.status === "streaming");
  try { for (const answer of streaming) await client.cancel(answer.messageId); } catch (e) { showError(e); }
});

if (session?.userName) {
  ui.userName.value = session.userName;
  startSession().catch(showError);
} else {
  ui.userName.focus();
}
