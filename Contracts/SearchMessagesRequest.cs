namespace ChatStreaming.Contracts;

/// <summary>
/// Full-text search of the caller's saved messages (web-search syntax: words, "a phrase", -excluded, or). At most
/// <see cref="Limit"/> hits (default 20, at most 100), only in <see cref="ConversationId"/> when given.
/// </summary>
public sealed record SearchMessagesRequest(string Query, int? Limit = null, Guid? ConversationId = null);
