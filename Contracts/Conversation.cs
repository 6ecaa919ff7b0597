namespace ChatStreaming.Contracts;

/// <summary>A conversation; <see cref="Model"/> and <see cref="SystemPrompt"/> are null while it uses the defaults.</summary>
public sealed record Conversation(
    Guid Id, string Title, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? Model = null, string? SystemPrompt = null);
