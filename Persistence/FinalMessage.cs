using ChatStreaming.Contracts;

namespace ChatStreaming.Persistence;

/// <summary>
/// The final state of an assistant answer, saved once: its text, everything it streamed (<see cref="Parts"/>, in order)
/// and the catalog model that answered. <see cref="Epoch"/>: the ownership that saves it (an owner's save is refused
/// once a later ownership took the answer over, <see cref="ChatStore.TakeOverAsync"/>); null for a save that is no
/// owner's (a sweep's, which won its claim in Redis).
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
    string? Model = null,
    long? Epoch = null);
