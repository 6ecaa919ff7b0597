namespace ChatStreaming.Contracts;

/// <param name="ClientMessageId">Optional idempotency key: the same key in the same conversation returns the same ids.</param>
public sealed record SendMessageRequest(Guid ConversationId, string Content, string? ClientMessageId = null);
