namespace ChatStreaming.Persistence;

/// <summary>Who may touch a message: the owner of its conversation. <see cref="Role"/> is "user" or "assistant".</summary>
public sealed record MessageOwner(Guid MessageId, Guid ConversationId, string OwnerId, string Role);
