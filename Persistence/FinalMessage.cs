using ChatStreaming.Contracts;

namespace ChatStreaming.Persistence;

/// <summary>
/// The final state of an assistant answer, saved once: its text, everything it streamed (<see cref="Parts"/>, in order)
/// and the catalog model that answered.
/// </summary>
public sealed record FinalMessage(
    Guid MessageId,
    string Content,
    MessageStatus Status,
    long LastSequence,
    string? Error,
    string? FinishReason = null,
    TokenUsage? Usage = null,
    IReadOnlyList<MessagePart>? Parts = null,
    string? Model = null);
