// ChatStreaming browser client logic, reusable by any JavaScript app: connect, join, resume, dedupe.
// Uses the official client: the global `signalR` in a page (@microsoft/signalr's dist/browser/signalr.min.js), or the
// module given to useSignalR (the npm package @chatstreaming/client does that: clients/js/index.js).
// Guarantee it gives its user: each answer's text is every chunk once, in order, and ends equal to the saved answer;
// its parts (text, reasoning, tool calls and results) likewise.

let signalR = globalThis.signalR;
let msgpack; // @microsoft/signalr-protocol-msgpack: given to useSignalR, else the page's global (signalR.protocols.msgpack)

/**
 * Makes the client use `module` (`import * as signalR from "@microsoft/signalr"`) instead of the global `signalR`, and
 * `msgpackModule` (`import * as msgpack from "@microsoft/signalr-protocol-msgpack"`) for the "messagepack" protocol.
 */
export function useSignalR(module, msgpackModule) { signalR = module; msgpack = msgpackModule; }

/** The hub protocol: "json" (SignalR's default) or "messagepack" (binary; the same fields, docs/protocol.md). */
function hubProtocol(protocol) {
  if (protocol === "json") return new signalR.JsonHubProtocol();
  if (protocol !== "messagepack") throw new Error(`unknown protocol "${protocol}": "json" or "messagepack"`);
  const module = msgpack ?? globalThis.signalR?.protocols?.msgpack;
  if (!module) throw new Error('the "messagepack" protocol needs @microsoft/signalr-protocol-msgpack (a page: lib/signalr/signalr-protocol-msgpack.min.js)');
  return new module.MessagePackHubProtocol();
}

/** A saved answer's parts (a server that sends none: its content as one text part). */
const partsOf = (message) => message.parts ?? (message.content ? [{ kind: "text", text: message.content }] : []);

/** Reconnects for ever, backing off to 10 s between attempts. */
const retryForever = { nextRetryDelayInMilliseconds: (ctx) => Math.min(10000, 500 * 2 ** Math.min(ctx.previousRetryCount, 5)) };

export class ChatClient {
  /** The conversations being opened: `{ id, heard }`, heard = a change of it that arrived meanwhile. */
  #openings = new Set();

  /**
   * @param {object} options
   * @param {string} [options.baseUrl] the hub's origin ("" = this page's)
   * @param {() => string | Promise<string>} options.accessTokenFactory
   * @param {(answer: Answer) => void} [options.onAnswer] an answer's text or status changed
   * @param {(message: object) => void} [options.onMessageAdded] a user message was accepted (any tab, any instance)
   * @param {(change: {type: "created"|"updated"|"deleted", conversation?: object, conversationId: string}) => void} [options.onConversationChanged]
   *   the user's conversation list changed (any tab, any instance)
   * @param {(state: string) => void} [options.onConnectionState] "connecting" | "connected" | "reconnecting" | "disconnected"
   * @param {(error: Error) => void} [options.onError]
   * @param {number} [options.quietLimitMs] a streaming answer not heard of for this long makes the client reopen the
   *   conversation: delivery is at most once, and an end lost on the way is then recovered from the snapshot
   * @param {"json"|"messagepack"} [options.protocol] the hub protocol (default "json"); both carry the same fields
   */
  constructor({ baseUrl = "", accessTokenFactory, onAnswer = () => {}, onMessageAdded = () => {}, onConversationChanged = () => {}, onConnectionState = () => {}, onError = () => {}, quietLimitMs = 10000, protocol = "json" }) {
    this.quietLimitMs = quietLimitMs;
    this.onConversationChanged = onConversationChanged;
    this.onAnswer = onAnswer;
    this.onMessageAdded = onMessageAdded;
    this.onConnectionState = onConnectionState;
    this.onError = onError;
    /** @type {Map<string, Answer>} messageId -> answer */
    this.answers = new Map();
    this.conversationId = null;
    // Invariant: chunk, finish and snapshot handling run one at a time, in arrival order.
    this.queue = Promise.resolve();
    this.connection = new signalR.HubConnectionBuilder()
      // chunkBatches: this client handles ReceiveChunks (several chunks in one frame when its connection backs up).
      .withUrl(`${baseUrl}/hubs/chat?chunkBatches=true`, { accessTokenFactory })
      .withHubProtocol(hubProtocol(protocol))
      .withAutomaticReconnect(retryForever)
      .withStatefulReconnect()
      .configureLogging(signalR.LogLevel.Warning)
      .build();
    // Handlers return nothing: SignalR treats a returned value as a result the server did not ask for.
    this.connection.on("ReceiveChunk", (chunk) => { this.#enqueue(() => this.#applyChunk(chunk)); });
    this.connection.on("ReceiveChunks", (chunks) => { for (const chunk of chunks) this.#enqueue(() => this.#applyChunk(chunk)); });
    this.connection.on("GenerationFinished", (finished) => { this.#enqueue(() => this.#applyFinished(finished)); });
    this.connection.on("GenerationResumed", (resumed) => { this.#enqueue(() => {
      const answer = this.#answer(resumed.messageId, resumed.conversationId);
      answer.resumedFrom = resumed.fromSequence; // another server carries it on: the same answer, sequences continuing
      this.onAnswer(answer);
    }); });
    this.connection.on("GenerationStarted", (started) => { this.#enqueue(() => this.#answer(started.messageId, started.conversationId, started.userMessageId)); });
    this.connection.on("MessageAdded", (message) => { this.onMessageAdded(message); });
    this.connection.on("ConversationCreated", (c) => { this.onConversationChanged({ type: "created", conversation: c, conversationId: c.id }); });
    this.connection.on("ConversationUpdated", (c) => {
      for (const opening of this.#openings) if (opening.id === c.id) opening.heard = c;
      this.onConversationChanged({ type: "updated", conversation: c, conversationId: c.id });
    });
    this.connection.on("ConversationDeleted", (d) => {
      const wasOpen = this.conversationId === d.conversationId;
      this.onConversationChanged({ type: "deleted", conversationId: d.conversationId }); // sees it still open
      if (wasOpen) {
        // Deleted in another tab: its group is left, or the server keeps holding it for this connection (one of its
        // groups, a subscription) until it closes. Best effort: a closing connection's groups go with it.
        if (this.conversationId === d.conversationId) this.conversationId = null;
        this.connection.invoke("LeaveConversation", d.conversationId).catch(() => {});
      }
    });
    this.connection.onreconnecting(() => this.onConnectionState("reconnecting"));
    this.connection.onreconnected(async () => {
      this.onConnectionState("connected");
      // A new connection is in no group: join again; the snapshot brings what was missed.
      if (this.conversationId) await this.open(this.conversationId).catch((e) => this.onError(e));
    });
    this.connection.onclose((error) => { this.onConnectionState("disconnected"); if (error) this.onError(error); });
  }

  async start() {
    this.onConnectionState("connecting");
    await this.connection.start();
    this.onConnectionState("connected");
    this.watchdog = setInterval(() => this.#checkQuiet(), this.quietLimitMs / 2);
  }

  stop() {
    clearInterval(this.watchdog);
    return this.connection.stop();
  }

  #checkQuiet() {
    const quiet = Date.now() - this.quietLimitMs;
    const silent = [...this.answers.values()].filter((a) => a.status === "streaming" && !a.offBranch && a.conversationId === this.conversationId && a.lastHeard < quiet);
    if (silent.length === 0 || this.connection.state !== signalR.HubConnectionState.Connected) return;
    for (const answer of silent) answer.lastHeard = Date.now();
    this.open(this.conversationId).then((snapshot) => {
      // Not on the branch the conversation shows (its question was edited, another answer chosen): no rejoin brings its
      // end, so it is not watched until a snapshot holds it again.
      for (const answer of silent) if (!snapshot.messages.some((m) => m.id === answer.messageId)) answer.offBranch = true;
    }).catch((e) => this.onError(e));
  }

  listConversations() { return this.connection.invoke("ListConversations"); }

  /** A page of the user's conversations, newest first: `{ conversations, nextCursor }` (pass `nextCursor` as `before`). */
  getConversations(before, limit) { return this.connection.invoke("GetConversations", { before: before ?? null, limit: limit ?? null }); }

  createConversation(title) { return this.connection.invoke("CreateConversation", title ?? null); }

  renameConversation(conversationId, title) { return this.connection.invoke("UpdateConversation", { conversationId, title }); }

  /** Sets the conversation's model (a name from `listModels`; "" = the default) and, when given, its system prompt ("" = the model's). */
  setConversationModel(conversationId, model, systemPrompt = null) {
    return this.connection.invoke("UpdateConversation", { conversationId, title: null, model, systemPrompt });
  }

  /** The models the server offers: `[{ name, provider, isDefault, tools }]`, the default first. */
  listModels() { return this.connection.invoke("ListModels"); }

  /** The user's token usage per model for answers that ended in [from, to): `[{ model, answers, promptTokens, completionTokens, totalTokens }]`. */
  getUsage(from = null, to = null) { return this.connection.invoke("GetUsage", { from, to }); }

  /** Deletes the conversation (its running answers are cancelled); every tab of the user is told. */
  async deleteConversation(conversationId) {
    const deleted = await this.connection.invoke("DeleteConversation", conversationId);
    if (this.conversationId === conversationId) this.conversationId = null;
    return deleted;
  }

  /** The user's saved messages matching `query`, best first: `[{ conversationId, conversationTitle, messageId, role, snippet, createdAt }]`. */
  search(query, limit, conversationId) {
    return this.connection.invoke("SearchMessages", { query, limit: limit ?? null, conversationId: conversationId ?? null });
  }

  /** Another answer to the question `answerId` answered; the old one stays as its sibling. */
  regenerate(answerId, clientMessageId = crypto.randomUUID()) {
    return this.connection.invoke("RegenerateAnswer", { messageId: answerId, clientMessageId });
  }

  /** A new version of the user message `messageId`, answered; the earlier branch stays. */
  edit(messageId, content, clientMessageId = crypto.randomUUID()) {
    return this.connection.invoke("EditMessage", { messageId, content, clientMessageId });
  }

  /** Makes the newest path through `messageId` the open conversation's active branch; returns its snapshot, applied. */
  async selectBranch(messageId) {
    const snapshot = await this.connection.invoke("SelectBranch", { conversationId: this.conversationId, messageId });
    await this.applyMessages(snapshot.messages);
    return snapshot;
  }

  /** Joins the conversation and applies its snapshot; returns the snapshot ({ conversation, messages }). */
  async open(conversationId) {
    const previous = this.conversationId;
    if (previous && previous !== conversationId) {
      await this.connection.invoke("LeaveConversation", previous).catch(() => {});
    }
    this.conversationId = conversationId;
    // A change of this conversation heard before its snapshot arrives is as new as the snapshot or newer (a user's
    // changes arrive in order): the snapshot carries it, so whoever draws the snapshot does not draw an older title or model.
    const opening = { id: conversationId, heard: null };
    this.#openings.add(opening);
    let snapshot;
    try {
      snapshot = await this.connection.invoke("JoinConversation", conversationId);
    } catch (e) {
      // Not opened (unknown, refused, the connection failing): the conversation open before stays the open one, joined
      // again, so its answers keep arriving and a send still goes there (best effort: a reconnect reopens it anyway).
      if (previous && previous !== conversationId && this.conversationId === conversationId) {
        this.conversationId = previous;
        await this.open(previous).catch(() => {});
      }
      throw e;
    } finally { this.#openings.delete(opening); }
    if (opening.heard) snapshot = { ...snapshot, conversation: opening.heard };
    await this.#enqueue(() => {
      for (const m of snapshot.messages.filter((m) => m.role === "assistant")) this.#applySnapshot(m);
    });
    return snapshot;
  }

  /**
   * The open conversation's messages before `beforePosition` (a message's `position`), newest `limit` of them, oldest
   * first: `{ messages, hasMoreBefore }`. Pass them to `applyMessages` once they are on screen.
   */
  loadEarlier(beforePosition, limit) {
    return this.connection.invoke("GetMessages", this.conversationId, beforePosition ?? null, limit ?? null);
  }

  /** Makes the answers among messages read from the server (a page) known, so they render and stay exact. */
  applyMessages(messages) {
    return this.#enqueue(() => {
      for (const m of messages.filter((m) => m.role === "assistant")) this.#applySnapshot(m);
    });
  }

  /**
   * Sends a message to the open conversation; a retry after a lost reply reuses the key, so nothing is sent twice.
   * `model` (optional) answers this message only; otherwise the conversation's model, else the default.
   */
  send(content, clientMessageId = crypto.randomUUID(), model = null) {
    return this.connection.invoke("SendMessage", { conversationId: this.conversationId, content, clientMessageId, model });
  }

  cancel(messageId) { return this.connection.invoke("CancelGeneration", messageId); }

  #enqueue(work) {
    const next = this.queue.then(work).catch((e) => this.onError(e));
    this.queue = next;
    return next;
  }

  #answer(messageId, conversationId, userMessageId = null) {
    let answer = this.answers.get(messageId);
    if (!answer) {
      answer = { messageId, conversationId, userMessageId, text: "", parts: [], model: null, thoughtMs: null, lastSequence: 0, status: "streaming", error: null, finishReason: null, resumedFrom: null, lastHeard: Date.now() };
      this.answers.set(messageId, answer);
      this.onAnswer(answer);
    }
    answer.userMessageId ??= userMessageId;
    return answer;
  }

  #applySnapshot(message) {
    const answer = this.#answer(message.id, message.conversationId, message.parentId ?? null);
    answer.offBranch = false;
    const parts = partsOf(message);
    if (message.status !== "streaming") {
      Object.assign(answer, { text: message.content, parts, model: message.model ?? null, lastSequence: message.lastSequence ?? 0, status: message.status, error: message.error ?? null, finishReason: message.finishReason ?? null });
    } else if (answer.status === "streaming" && (message.lastSequence ?? 0) >= answer.lastSequence) {
      Object.assign(answer, { text: message.content, parts, lastSequence: message.lastSequence ?? 0, lastHeard: Date.now() });
    }
    this.onAnswer(answer);
  }

  async #applyChunk(chunk) {
    const answer = this.#answer(chunk.messageId, chunk.conversationId);
    if (answer.status !== "streaming" || chunk.sequence <= answer.lastSequence) return; // finished, or a duplicate
    if (chunk.sequence > answer.lastSequence + 1) await this.#fillGap(answer); // chunks were lost on the way
    if (chunk.sequence !== answer.lastSequence + 1) return; // the gap fill already had it
    ChatClient.#take(answer, chunk);
    answer.lastHeard = Date.now();
    answer.offBranch = false; // heard again: it streams after all
    this.onAnswer(answer);
  }

  async #fillGap(answer) {
    try {
      // GetChunks returns at most Chat:MaxChunksPerRead chunks: page until a read brings nothing new.
      for (;;) {
        const missed = await this.connection.invoke("GetChunks", answer.messageId, answer.lastSequence);
        let taken = 0;
        for (const chunk of missed) {
          if (chunk.sequence !== answer.lastSequence + 1) break;
          ChatClient.#take(answer, chunk);
          taken++;
        }
        if (missed.length === 0 || taken < missed.length) break;
      }
    } catch (error) {
      // "replay unavailable": the buffer expired. GenerationFinished (or a reopen) will bring the saved text.
      this.onError(error);
    }
  }

  /**
   * Adds the next chunk (in sequence) to the answer: text deltas to `text`; every kind to `parts` (text and reasoning
   * join the part before them when it is of their kind). Reasoning is timed from its first chunk to the next other one.
   */
  static #take(answer, chunk) {
    const kind = chunk.kind ?? "text";
    const piece = kind === "text" ? chunk.delta : (chunk.part ?? "");
    if (kind === "text") answer.text += chunk.delta;
    const last = answer.parts[answer.parts.length - 1];
    if ((kind === "text" || kind === "reasoning") && last?.kind === kind) last.text += piece;
    else answer.parts.push({ kind, text: piece });
    if (kind === "reasoning") answer.reasoningFrom ??= chunk.emittedAt;
    else if (answer.reasoningFrom != null && answer.thoughtMs == null) answer.thoughtMs = chunk.emittedAt - answer.reasoningFrom;
    answer.lastSequence = chunk.sequence;
  }

  #applyFinished(finished) {
    const answer = this.#answer(finished.messageId, finished.conversationId);
    // The saved answer is the truth, whatever was missed on the way.
    const parts = partsOf(finished);
    Object.assign(answer, { text: finished.content, parts, model: finished.model ?? null, lastSequence: finished.lastSequence, status: finished.status, error: finished.error ?? null, finishReason: finished.finishReason ?? null });
    this.onAnswer(answer);
  }
}

/**
 * @typedef {object} Answer
 * @property {string} messageId
 * @property {string} conversationId
 * @property {string|null} userMessageId the question it answers (null until the client has heard)
 * @property {string} text the answer's text (its text parts joined)
 * @property {{kind: "text"|"reasoning"|"toolCall"|"toolResult", text: string}[]} parts everything it streamed, in order
 *   (toolCall and toolResult texts are JSON: `{ callId, name, arguments }`, `{ callId, result }`)
 * @property {string|null} model the catalog model that answered (known once it ended)
 * @property {number|null} thoughtMs how long it reasoned, when its reasoning was seen streaming
 * @property {number} lastSequence
 * @property {"streaming"|"completed"|"cancelled"|"failed"|"interrupted"} status
 * @property {string|null} error
 * @property {string|null} finishReason
 */

/** Gets a development token (only where Auth:EnableDevTokens is on). */
export async function getDevToken(baseUrl, userName) {
  const response = await fetch(`${baseUrl}/api/auth/dev-token`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userName }),
  });
  if (!response.ok) throw new Error(response.status === 404 ? "development tokens are disabled on this server" : `sign-in refused (${response.status})`);
  return response.json();
}
