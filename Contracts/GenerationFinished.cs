namespace ChatStreaming.Contracts;

/// <summary>
/// The end of an answer, sent after it was saved. <see cref="Content"/> is the whole saved answer; <see cref="FinishReason"/>
/// is the model's (stop, length, content_filter…) when it gave one.
/// </summary>
public sealed record GenerationFinished(
    Guid ConversationId,
    Guid MessageId,
    MessageStatus Status,
    long LastSequence,
    string Content,
    string? Error = null,
    string? FinishReason = null,
    TokenUsage? Usage = null);
