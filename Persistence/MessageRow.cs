using ChatStreaming.Contracts;

namespace ChatStreaming.Persistence;

/// <summary>A row of <c>messages</c> as Dapper reads it (text enums, UTC DateTime).</summary>
internal sealed record MessageRow(
    Guid Id,
    Guid ConversationId,
    string Role,
    string Content,
    string Status,
    DateTime CreatedAt,
    DateTime? CompletedAt,
    long? LastSequence,
    string? Error,
    string? FinishReason,
    long? PromptTokens,
    long? CompletionTokens,
    long Position)
{
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
        PromptTokens is { } prompt && CompletionTokens is { } completion ? new TokenUsage(prompt, completion) : null,
        Position);
}
