namespace ChatStreaming.Contracts;

/// <param name="ClientMessageId">Optional idempotency key: the same key in the same conversation returns the same ids.</param>
/// <param name="Model">Optional: the catalog model (ListModels) for this answer only; else the conversation's, else the default.</param>
public sealed record SendMessageRequest(Guid ConversationId, string Content, string? ClientMessageId = null, string? Model = null);
