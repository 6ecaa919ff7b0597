// The chat page: UI only. Connection, resume and dedupe live in chat-client.js; Markdown in markdown.js.
import { ChatClient, getDevToken } from "./chat-client.js";
import { renderMarkdown, allowImagesFrom } from "./markdown.js";

const $ = (id) => document.getElementById(id);
const ui = {
  signInForm: $("sign-in-form"), userName: $("user-name"), signedIn: $("signed-in"), who: $("who"), signOut: $("sign-out"),
  connection: $("connection"), app: $("app"), newConversation: $("new-conversation"), conversations: $("conversations"),
  searchForm: $("search-form"), searchInput: $("search-input"), searchResults: $("search-results"),
  title: $("conversation-title"), model: $("model-select"), messages: $("messages"), loadEarlier: $("load-earlier"), status: $("status"), composer: $("composer"),
  input: $("composer-input"), send: $("send"), stop: $("stop"), error: $("error"),
};
const statusWords = { streaming: "Streaming…", completed: "Completed", cancelled: "Cancelled", failed: "Failed", interrupted: "Interrupted" };
const connectionWords = { connecting: "Connecting…", connected: "Connected", reconnecting: "Connection lost, reconnecting…", disconnected: "Disconnected" };
let client = null;
let oldestPosition = null; // of the first message shown: "Load earlier messages" pages back from it
let opening = 0; // > 0 while a conversation's snapshot is being drawn: it draws every message itself, in order
let reopenTimer = null;
let navigations = 0; // conversations opened so far: the start-up restore from the URL yields to one the user opened meanwhile
const arrivedWhileOpening = []; // live messages and answers heard while a snapshot was drawn: placed once it is on screen
const shown = new Map(); // messageId -> the message as last read ({ parentId, siblingIds, role, … }) for the open branch
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

const button = (className, text, label, onClick) => {
  const b = Object.assign(document.createElement("button"), { type: "button", className, textContent: text });
  if (label) b.setAttribute("aria-label", label);
  b.addEventListener("click", (event) => { event.stopPropagation(); Promise.resolve(onClick()).catch(showError); });
  return b;
};

function newMessageElement(id, role) {
  const li = document.createElement("li");
  li.dataset.messageId = id;
  li.className = role;
  // Answers are Markdown (rendered, sanitized); questions are shown as typed.
  if (role === "assistant") li.append(Object.assign(document.createElement("div"), { className: "parts" }));
  li.append(Object.assign(document.createElement("div"), { className: role === "assistant" ? "text markdown" : "text" }));
  if (role === "assistant") li.append(Object.assign(document.createElement("span"), { className: "badge" }));
  li.append(Object.assign(document.createElement("div"), { className: "actions" }));
  return li;
}

function findElement(id) { return ui.messages.querySelector(`li[data-message-id="${id}"]`); }

function lastShownId() { return ui.messages.lastElementChild?.dataset.messageId ?? null; }

/** The message's row, made at the end of the list when it is new. */
function messageElement(id, role) {
  let li = findElement(id);
  if (!li) {
    li = newMessageElement(id, role);
    ui.messages.append(li);
  }
  return li;
}

/** The branch changed under the page (a regenerate, an edit, another tab's choice): redraw it from a snapshot, once. */
function scheduleReopen() {
  clearTimeout(reopenTimer);
  reopenTimer = setTimeout(() => { if (client.conversationId) openConversation(client.conversationId).catch(showError); }, 50);
}

/** ‹ i / n › between a message's siblings, Edit on questions, Regenerate on ended answers. */
function renderActions(li, message, answer) {
  const actions = li.querySelector(".actions");
  const items = [];
  const siblings = message?.siblingIds ?? [];
  if (siblings.length > 1) {
    const i = siblings.indexOf(message.id);
    const nav = Object.assign(document.createElement("span"), { className: "siblings" });
    const previous = button("previous", "‹", "Previous version", () => selectBranch(siblings[i - 1]));
    const next = button("next", "›", "Next version", () => selectBranch(siblings[i + 1]));
    previous.disabled = i <= 0;
    next.disabled = i >= siblings.length - 1;
    nav.append(previous, Object.assign(document.createElement("span"), { className: "position", textContent: `${i + 1} / ${siblings.length}` }), next);
    items.push(nav);
  }
  if (li.classList.contains("user")) items.push(button("edit", "Edit", "Edit this message", () => startEdit(li)));
  else if (answer && answer.status !== "streaming") items.push(button("regenerate", "Regenerate", "Regenerate this answer", () => regenerate(answer.messageId)));
  actions.replaceChildren(...items);
}

/** A live message or answer heard while a snapshot was drawn: below the last message if it follows it, else redraw. */
function placeLate(id, parentId, render) {
  if (findElement(id)) return; // the snapshot had it
  if ((parentId ?? null) === lastShownId()) render();
  else scheduleReopen();
}

function placeArrivedWhileOpening() {
  if (opening > 0) return;
  for (const place of arrivedWhileOpening.splice(0)) place();
}

function renderUser(message) {
  shown.set(message.id, message);
  const li = messageElement(message.id, "user");
  if (li.classList.contains("editing")) return;
  li.querySelector(".text").textContent = message.content;
  renderActions(li, message, null);
}

function renderAnswer(answer) {
  if (answer.conversationId !== client.conversationId) return;
  let li = findElement(answer.messageId);
  if (!li) {
    if (opening > 0) {
      arrivedWhileOpening.push(() => { if (answer.conversationId === client.conversationId) placeLate(answer.messageId, answer.userMessageId, () => renderAnswer(answer)); });
      return;
    }
    if (!answer.userMessageId || answer.userMessageId !== lastShownId()) { scheduleReopen(); return; } // not below the last question: a new branch
    li = messageElement(answer.messageId, "assistant");
  }
  li.dataset.status = answer.status;
  renderParts(li.querySelector(".parts"), answer);
  renderMarkdown(li.querySelector(".text"), answer.text, answer.status === "streaming");
  const reason = answer.finishReason && answer.finishReason !== "stop" ? ` (${answer.finishReason})` : "";
  const model = answer.model && knownModels.length > 1 ? ` · ${answer.model}` : ""; // which model, when there is a choice
  const resumed = answer.resumedFrom != null ? " · resumed after a server restart" : ""; // another server carried it on
  li.querySelector(".badge").textContent = `${statusWords[answer.status]}${reason}${answer.error ? `: ${answer.error}` : ""}${model}${resumed}`;
  renderActions(li, shown.get(answer.messageId) ?? { id: answer.messageId, siblingIds: [answer.messageId] }, answer);
  if (opening === 0) li.scrollIntoView({ block: "end" });
  const streaming = [...client.answers.values()].some((a) => a.conversationId === client.conversationId && a.status === "streaming");
  ui.stop.disabled = !streaming;
  ui.status.textContent = streaming ? statusWords.streaming : statusWords[answer.status];
}

/**
 * What the answer did besides its text, in order, above it: its reasoning collapsed ("Thought for 3 s"), each tool
 * call as one line ("Called search_history · zebra") whose result opens below it. Built from text nodes only: a model's
 * reasoning or a tool's result is never HTML. An open <details> stays open while the answer streams.
 */
function renderParts(container, answer) {
  const open = new Set([...container.querySelectorAll("details[open]")].map((d) => d.dataset.key));
  const results = new Map(answer.parts.filter((p) => p.kind === "toolResult").map((p) => { const r = parseJson(p.text); return [r?.callId, r]; }));
  const items = [];
  answer.parts.forEach((part, i) => {
    if (part.kind === "reasoning") {
      const thinking = answer.status === "streaming" && i === answer.parts.length - 1;
      const seconds = answer.thoughtMs != null ? Math.max(1, Math.round(answer.thoughtMs / 1000)) : null;
      items.push(details(`reasoning-${i}`, "reasoning", thinking ? "Thinking…" : seconds ? `Thought for ${seconds} s` : "Thought", part.text, open));
    } else if (part.kind === "toolCall") {
      const call = parseJson(part.text) ?? {};
      const args = Object.values(call.arguments ?? {}).map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(", ");
      const result = results.get(call.callId);
      const body = result ? JSON.stringify(result.result, null, 2) : "running…";
      items.push(details(`tool-${i}`, "tool", `Called ${call.name ?? "tool"}${args ? ` · ${args}` : ""}${result ? "" : " …"}`, body, open));
    }
  });
  container.replaceChildren(...items);
}

function details(key, className, summary, body, open) {
  const d = Object.assign(document.createElement("details"), { className });
  d.dataset.key = key;
  d.open = open.has(key);
  d.append(Object.assign(document.createElement("summary"), { textContent: summary }), Object.assign(document.createElement("pre"), { textContent: body }));
  return d;
}

function parseJson(text) { try { return JSON.parse(text); } catch { return null; } }

/** The model picker: the server's catalog; "" is the default model. Chosen per conversation. */
let knownModels = [];

async function loadModels() {
  const models = knownModels = await client.listModels();
  const fallback = models.find((m) => m.isDefault)?.name ?? "";
  ui.model.replaceChildren(
    Object.assign(document.createElement("option"), { value: "", textContent: `Default (${fallback})` }),
    ...models.map((m) => Object.assign(document.createElement("option"), { value: m.name, textContent: `${m.name} · ${m.provider}${m.tools?.length ? " · tools" : ""}` })));
}

/** Draws messages (oldest first) in that order: questions and answers each in their own row. */
function renderMessages(messages) {
  for (const message of messages) {
    shown.set(message.id, message);
    if (message.role === "user") renderUser(message);
    else {
      messageElement(message.id, "assistant");
      renderAnswer(client.answers.get(message.id));
    }
    ui.messages.append(findElement(message.id));
  }
}

function showEarlier(page) {
  oldestPosition = page.messages[0]?.position ?? oldestPosition;
  ui.loadEarlier.hidden = !page.hasMoreBefore;
}

async function loadEarlier() {
  opening++; // the page's answers become known before they are drawn, in place
  try {
    const page = await client.loadEarlier(oldestPosition);
    await client.applyMessages(page.messages);
    const newer = [...ui.messages.children];
    renderMessages(page.messages);
    ui.messages.append(...newer); // the older page above what was shown
    showEarlier(page);
    return page;
  } finally { opening--; placeArrivedWhileOpening(); }
}

/**
 * Draws the user's conversations, newest first. Rows already shown are updated and moved in place, never replaced: a
 * redraw (another tab renamed or re-modelled a conversation) must not swap the button under a click that is landing.
 */
async function refreshConversations() {
  const { conversations } = await client.getConversations(null, 200);
  // A rename in progress keeps its input: redrawing the list would drop what is being typed. Its end redraws it.
  if (ui.conversations.querySelector(".rename-input")) return;
  const rows = new Map([...ui.conversations.children].map((li) => [li.dataset.conversationId, li]));
  const listed = new Set(conversations.map((c) => c.id));
  for (const [id, li] of rows) if (!listed.has(id)) li.remove();
  let previous = null;
  for (const c of conversations) {
    const li = rows.get(c.id) ?? conversationRow(c.id);
    li.conversation = c;
    const open = li.querySelector("button.open");
    if (open.textContent !== c.title) open.textContent = c.title;
    open.setAttribute("aria-current", String(c.id === client.conversationId));
    li.querySelector("button.rename").setAttribute("aria-label", `Rename ${c.title}`);
    li.querySelector("button.delete").setAttribute("aria-label", `Delete ${c.title}`);
    const expected = previous ? previous.nextElementSibling : ui.conversations.firstElementChild;
    if (expected !== li) { if (previous) previous.after(li); else ui.conversations.prepend(li); }
    previous = li;
  }
}

/** A conversation's row: open, rename, delete; its buttons act on the conversation last drawn into it (li.conversation). */
function conversationRow(id) {
  const li = document.createElement("li");
  li.dataset.conversationId = id;
  const open = button("open", "", null, () => openConversation(id));
  open.dataset.conversationId = id;
  li.append(open, button("rename", "✎", null, () => startRename(li, li.conversation)), button("delete", "×", null, () => deleteConversation(li.conversation)));
  return li;
}

function startRename(li, conversation) {
  const input = Object.assign(document.createElement("input"), { className: "rename-input", value: conversation.title, maxLength: 200 });
  input.setAttribute("aria-label", "New title");
  const buttons = [...li.children];
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    const title = input.value;
    li.replaceChildren(...buttons); // the row again; the list may be redrawn from now on
    if (save && title.trim() !== conversation.title) {
      const renamed = await client.renameConversation(conversation.id, title);
      if (renamed.id === client.conversationId) ui.title.textContent = renamed.title;
    }
    await refreshConversations();
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); finish(true).catch(showError); }
    if (event.key === "Escape") finish(false).catch(showError);
  });
  input.addEventListener("blur", () => finish(true).catch(showError));
  li.replaceChildren(input);
  input.focus();
  input.select();
}

async function deleteConversation(conversation) {
  if (!confirm(`Delete “${conversation.title}” and all its messages? This cannot be undone.`)) return;
  await client.deleteConversation(conversation.id);
  if (location.hash === `#c=${conversation.id}`) closeConversation();
  await refreshConversations();
}

function closeConversation() {
  client.conversationId = null;
  shown.clear();
  ui.messages.replaceChildren();
  ui.title.textContent = "No conversation open";
  ui.model.disabled = true;
  ui.loadEarlier.hidden = true;
  ui.input.disabled = true;
  ui.status.textContent = "";
  location.hash = "";
  updateSend();
}

function startEdit(li) {
  const message = shown.get(li.dataset.messageId);
  li.classList.add("editing");
  const editor = Object.assign(document.createElement("textarea"), { className: "edit-input", value: message.content, rows: 3 });
  editor.setAttribute("aria-label", "Edited message");
  const cancel = () => { li.classList.remove("editing"); renderUser(message); };
  const save = async () => {
    const content = editor.value.trim();
    if (!content) return;
    li.classList.remove("editing");
    await client.edit(message.id, content);
    await openConversation(client.conversationId);
  };
  li.querySelector(".text").replaceChildren(editor);
  li.querySelector(".actions").replaceChildren(button("save", "Save & send", null, save), button("cancel", "Cancel", null, cancel));
  editor.focus();
}

async function regenerate(answerId) {
  await client.regenerate(answerId);
  await openConversation(client.conversationId);
}

async function selectBranch(messageId) {
  opening++;
  try {
    const snapshot = await client.selectBranch(messageId);
    await openConversation(client.conversationId, snapshot);
  } finally { opening--; placeArrivedWhileOpening(); }
}

/** Opens the conversation (or draws `snapshot`, already joined): its active branch, oldest first. */
async function openConversation(id, snapshot = null) {
  navigations++;
  ui.error.textContent = "";
  opening++;
  try {
    snapshot ??= await client.open(id);
    if (client.conversationId !== id) return; // another conversation was opened meanwhile: it renders itself
    location.hash = `c=${id}`;
    ui.title.textContent = snapshot.conversation.title;
    ui.model.value = snapshot.conversation.model ?? "";
    ui.model.disabled = false;
    shown.clear();
    ui.messages.replaceChildren();
    renderMessages(snapshot.messages);
  } finally { opening--; placeArrivedWhileOpening(); }
  ui.messages.lastElementChild?.scrollIntoView({ block: "end" });
  oldestPosition = null;
  showEarlier(snapshot);
  const streaming = snapshot.messages.some((m) => client.answers.get(m.id)?.status === "streaming");
  ui.stop.disabled = !streaming;
  ui.status.textContent = streaming ? statusWords.streaming : "";
  ui.input.disabled = false;
  if (document.activeElement === document.body) ui.input.focus();
  updateSend();
  await refreshConversations();
}

/** Opens a search hit's conversation at its message: paging back for it, or moving to its branch. */
async function openAt(conversationId, messageId) {
  await openConversation(conversationId);
  let page = { hasMoreBefore: !ui.loadEarlier.hidden };
  while (!findElement(messageId) && page.hasMoreBefore) page = await loadEarlier();
  if (!findElement(messageId)) await selectBranch(messageId); // on another branch
  const li = findElement(messageId);
  li?.classList.add("found");
  li?.scrollIntoView({ block: "center" });
}

/** A snippet with its **matches** as <mark>, built as text nodes (a snippet is never HTML). */
function snippetElement(snippet) {
  const p = Object.assign(document.createElement("span"), { className: "snippet" });
  snippet.split("**").forEach((part, i) => p.append(i % 2 === 1 ? Object.assign(document.createElement("mark"), { textContent: part }) : document.createTextNode(part)));
  return p;
}

async function search(query) {
  const hits = query.trim() ? await client.search(query, 20) : [];
  ui.searchResults.replaceChildren(...hits.map((hit) => {
    const li = document.createElement("li");
    const open = button("hit", "", `${hit.conversationTitle}: ${hit.snippet.replaceAll("**", "")}`, () => openAt(hit.conversationId, hit.messageId));
    open.dataset.messageId = hit.messageId;
    open.append(Object.assign(document.createElement("strong"), { textContent: hit.conversationTitle }), snippetElement(hit.snippet));
    li.append(open);
    return li;
  }));
  if (query.trim() && hits.length === 0) ui.searchResults.append(Object.assign(document.createElement("li"), { className: "no-hits", textContent: "No messages found" }));
}

function updateSend() { ui.send.disabled = ui.input.disabled || ui.input.value.trim() === ""; }

async function startSession() {
  try {
    allowImagesFrom((await (await fetch("api/client-settings")).json()).imageSources); // which remote images may show
  } catch {
    allowImagesFrom([]); // unknown: every remote image is a link
  }
  ui.signInForm.hidden = true;
  ui.signedIn.hidden = false;
  ui.app.hidden = false;
  ui.who.textContent = session.userName;
  client = new ChatClient({
    accessTokenFactory: token,
    // ?protocol=messagepack picks the binary hub protocol (same fields); JSON otherwise.
    protocol: new URLSearchParams(location.search).get("protocol") === "messagepack" ? "messagepack" : "json",
    onAnswer: renderAnswer,
    onMessageAdded: (m) => {
      if (m.conversationId !== client.conversationId) return;
      if (opening > 0) { arrivedWhileOpening.push(() => { if (m.conversationId === client.conversationId) placeLate(m.id, m.parentId, () => renderUser(m)); }); return; }
      if (findElement(m.id) || (m.parentId ?? null) === lastShownId()) renderUser(m);
      else scheduleReopen(); // an edit: a question beside an earlier one
    },
    onConversationChanged: (change) => {
      if (change.type === "deleted" && change.conversationId === client.conversationId) closeConversation();
      if (change.type === "updated" && change.conversationId === client.conversationId) {
        ui.title.textContent = change.conversation.title;
        ui.model.value = change.conversation.model ?? "";
      }
      refreshConversations().catch(showError);
    },
    onConnectionState: (state) => { ui.connection.textContent = connectionWords[state]; },
    onError: showError,
  });
  await client.start();
  const fromHash = /c=([0-9a-f-]{36})/.exec(location.hash)?.[1];
  const opened = navigations;
  await loadModels();
  await refreshConversations();
  if (fromHash && navigations === opened) await openConversation(fromHash).catch(showError);
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

ui.searchForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  try { await search(ui.searchInput.value); } catch (e) { showError(e); }
});

ui.model.addEventListener("change", async () => {
  try { await client.setConversationModel(client.conversationId, ui.model.value); } catch (e) { showError(e); }
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
