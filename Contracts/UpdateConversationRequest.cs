namespace ChatStreaming.Contracts;

/// <summary>
/// Changes a conversation. <see cref="Title"/>: same rules as CreateConversation (trimmed, empty means "New conversation").
/// <see cref="Model"/>: a catalog model (ListModels) its answers use; <see cref="SystemPrompt"/>: replaces the model's
/// system prompt for it. For each of the three, null leaves it as it is and "" resets it (title "New conversation", the
/// default model, the model's own prompt); a request with all three null renames to "New conversation", as before.
/// </summary>
public sealed record UpdateConversationRequest(Guid ConversationId, string? Title, string? Model = null, string? SystemPrompt = null);
