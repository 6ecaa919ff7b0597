using ChatStreaming.Contracts;

namespace ChatStreaming.Persistence;

/// <summary>
/// A row of <c>messages</c> as Dapper reads it (text enums, UTC DateTime). Properties, not a positional record: Dapper
/// matches a constructor only on exact field types, and Npgsql reports a <c>uuid[]</c> column as <see cref="Array"/>.
/// </summary>
internal sealed class MessageRow
{
    public Guid Id { get; init; }

    public Guid ConversationId { get; init; }

    public string Role { get; init; } = "";

    public string Content { get; init; } = "";

    public string Status { get; init; } = "";

    public DateTime CreatedAt { get; init; }

    public DateTime? CompletedAt { get; init; }

    public long? LastSequence { get; init; }

    public string? Error { get; init; }

    public string? FinishReason { get; init; }

    public long? PromptTokens { get; init; }

    public long? CompletionTokens { get; init; }

    public bool UsageEstimated { get; init; }

    public long Position { get; init; }

    public Guid? ParentId { get; init; }

    public Guid[] SiblingIds { get; init; } = [];

    public string? Model { get; init; }

    public string? Parts { get; init; }

    public Message ToMessage() => new(
        Id,
        ConversationId,
        MessageStatusNames.ParseRole(Role),
        StoredText.Decode(Content),
        MessageStatusNames.ParseStatus(Status),
        new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)),
        CompletedAt is { } completed ? new DateTimeOffset(DateTime.SpecifyKind(completed, DateTimeKind.Utc)) : null,
        LastSequence,
        Error,
        FinishReason,
        PromptTokens is { } prompt && CompletionTokens is { } completion ? new TokenUsage(prompt, completion) { Estimated = UsageEstimated } : null,
        Position,
        ParentId,
        SiblingIds,
        Model,
        Role == "assistant" ? StoredParts.Decode(Parts, StoredText.Decode(Content)) : null);
}
