namespace ChatStreaming.Contracts;

/// <summary>Renames a conversation (same title rules as CreateConversation: trimmed, empty means "New conversation").</summary>
public sealed record UpdateConversationRequest(Guid ConversationId, string? Title);
