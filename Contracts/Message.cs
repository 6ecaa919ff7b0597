namespace ChatStreaming.Contracts;

/// <summary>
/// A message of a conversation. For an assistant message still streaming, <see cref="Content"/> is the text so far
/// and <see cref="LastSequence"/> the sequence of the last chunk it includes. A finished answer may carry the model's
/// <see cref="FinishReason"/> (stop, length, content_filter…) and <see cref="Usage"/>.
/// </summary>
public sealed record Message(
    Guid Id,
    Guid ConversationId,
    MessageRole Role,
    string Content,
    MessageStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    long? LastSequence,
    string? Error = null,
    string? FinishReason = null,
    TokenUsage? Usage = null);
