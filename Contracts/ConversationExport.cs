namespace ChatStreaming.Contracts;

/// <summary>The JSON export: the conversation and its active branch, oldest first.</summary>
public sealed record ConversationExport(Conversation Conversation, IReadOnlyList<Message> Messages);
