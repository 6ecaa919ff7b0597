// Types of @chatstreaming/client and of the wire records it hands out (docs/protocol.md).

export type MessageStatus = "streaming" | "completed" | "cancelled" | "failed" | "interrupted";
export type MessageRole = "user" | "assistant";
export type ChunkKind = "text" | "reasoning" | "toolCall" | "toolResult";
export type ConnectionState = "connecting" | "connected" | "reconnecting" | "disconnected";

export interface TokenUsage { promptTokens: number; completionTokens: number; }

/** One part of an answer: text or reasoning text; for toolCall / toolResult a JSON document. */
export interface MessagePart { kind: ChunkKind; text: string; }

export interface Conversation {
  id: string; title: string; createdAt: string; updatedAt: string;
  model?: string | null; systemPrompt?: string | null;
}

export interface Message {
  id: string; conversationId: string; role: MessageRole; content: string; status: MessageStatus;
  createdAt: string; completedAt?: string | null; lastSequence?: number | null;
  error?: string | null; finishReason?: string | null; usage?: TokenUsage | null;
  position: number; parentId?: string | null; siblingIds?: string[] | null;
  model?: string | null; parts?: MessagePart[] | null;
}

export interface Chunk {
  conversationId: string; messageId: string; sequence: number; delta: string; emittedAt: number;
  kind: ChunkKind; part?: string;
}

export interface ConversationSnapshot { conversation: Conversation; messages: Message[]; hasMoreBefore: boolean; }
export interface MessagePage { messages: Message[]; hasMoreBefore: boolean; }
export interface ConversationPage { conversations: Conversation[]; nextCursor: string | null; }
export interface SendMessageResult { userMessageId: string; assistantMessageId: string; status: MessageStatus; }
export interface SearchHit {
  conversationId: string; conversationTitle: string; messageId: string; role: MessageRole; snippet: string; createdAt: string;
}
export interface ModelInfo { name: string; provider: "Simulated" | "OpenAI" | "AzureOpenAI"; isDefault: boolean; tools?: string[] | null; }
export interface ModelUsage { model: string; answers: number; promptTokens: number; completionTokens: number; totalTokens: number; }
export interface DevToken { accessToken: string; expiresAt: string; }

/** One answer as the client has it: every chunk once, in order; at its end, exactly the saved answer. */
export interface Answer {
  messageId: string;
  conversationId: string;
  /** The question it answers (null until the client has heard). */
  userMessageId: string | null;
  /** The answer's text (its text parts joined). */
  text: string;
  /** Everything it streamed, in order. */
  parts: MessagePart[];
  /** The catalog model that answered (known once it ended). */
  model: string | null;
  /** How long it reasoned, when its reasoning was seen streaming. */
  thoughtMs: number | null;
  lastSequence: number;
  status: MessageStatus;
  error: string | null;
  finishReason: string | null;
  /** Set when another server carried the answer on after its own stopped: the last sequence before the seam. */
  resumedFrom: number | null;
}

export type ConversationChange =
  | { type: "created" | "updated"; conversation: Conversation; conversationId: string }
  | { type: "deleted"; conversationId: string };

export interface ChatClientOptions {
  /** The hub's origin ("" = the page's). */
  baseUrl?: string;
  accessTokenFactory: () => string | Promise<string>;
  /** An answer's text, parts or status changed (called in order). */
  onAnswer?: (answer: Answer) => void;
  /** A user message was accepted (any tab, any instance). */
  onMessageAdded?: (message: Message) => void;
  /** The user's conversation list changed (any tab, any instance). */
  onConversationChanged?: (change: ConversationChange) => void;
  onConnectionState?: (state: ConnectionState) => void;
  onError?: (error: Error) => void;
  /** A streaming answer not heard of for this long makes the client reopen the conversation (default 10000). */
  quietLimitMs?: number;
  /** The hub protocol (default "json"): "messagepack" is binary and carries the same fields. */
  protocol?: "json" | "messagepack";
}

export declare class ChatClient {
  constructor(options: ChatClientOptions);
  /** The answers this client knows, by message id. */
  readonly answers: Map<string, Answer>;
  /** The open conversation, or null. */
  conversationId: string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  listConversations(): Promise<Conversation[]>;
  getConversations(before?: string | null, limit?: number | null): Promise<ConversationPage>;
  createConversation(title?: string | null): Promise<Conversation>;
  renameConversation(conversationId: string, title: string): Promise<Conversation>;
  /** Sets the conversation's model ("" = the default) and, unless null, its system prompt ("" = the model's). */
  setConversationModel(conversationId: string, model: string, systemPrompt?: string | null): Promise<Conversation>;
  listModels(): Promise<ModelInfo[]>;
  getUsage(from?: string | null, to?: string | null): Promise<ModelUsage[]>;
  deleteConversation(conversationId: string): Promise<boolean>;
  search(query: string, limit?: number | null, conversationId?: string | null): Promise<SearchHit[]>;
  regenerate(answerId: string, clientMessageId?: string): Promise<SendMessageResult>;
  edit(messageId: string, content: string, clientMessageId?: string): Promise<SendMessageResult>;
  selectBranch(messageId: string): Promise<ConversationSnapshot>;
  /** Joins the conversation and applies its snapshot (carrying a change of the conversation heard meanwhile); rejoined after every reconnect. */
  open(conversationId: string): Promise<ConversationSnapshot>;
  loadEarlier(beforePosition?: number | null, limit?: number | null): Promise<MessagePage>;
  applyMessages(messages: Message[]): Promise<void>;
  /** Sends to the open conversation; `model` answers this message only. */
  send(content: string, clientMessageId?: string, model?: string | null): Promise<SendMessageResult>;
  cancel(messageId: string): Promise<boolean>;
}

/** A development token (only where the server has Auth:EnableDevTokens). */
export declare function getDevToken(baseUrl: string, userName: string): Promise<DevToken>;
