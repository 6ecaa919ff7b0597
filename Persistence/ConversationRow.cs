using ChatStreaming.Contracts;

namespace ChatStreaming.Persistence;

internal sealed record ConversationRow(Guid Id, string Title, DateTime CreatedAt, DateTime UpdatedAt, string? Model, string? SystemPrompt)
{
    public Conversation ToConversation() => new(
        Id,
        StoredText.Decode(Title),
        new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)),
        new DateTimeOffset(DateTime.SpecifyKind(UpdatedAt, DateTimeKind.Utc)),
        Model,
        SystemPrompt is null ? null : StoredText.Decode(SystemPrompt));
}
