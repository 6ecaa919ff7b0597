namespace ChatStreaming.Contracts;

/// <summary>The end of an answer, sent after it was saved. <see cref="Content"/> is the whole saved answer.</summary>
public sealed record GenerationFinished(
    Guid ConversationId,
    Guid MessageId,
    MessageStatus Status,
    long LastSequence,
    string Content,
    string? Error = null);
