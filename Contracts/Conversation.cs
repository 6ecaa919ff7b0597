namespace ChatStreaming.Contracts;

public sealed record Conversation(Guid Id, string Title, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
