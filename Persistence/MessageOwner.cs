namespace ChatStreaming.Persistence;

/// <summary>Who may touch a message: the owner of its conversation.</summary>
public sealed record MessageOwner(Guid MessageId, Guid ConversationId, string OwnerId);
