using ChatStreaming.Contracts;

namespace ChatStreaming.Persistence;

/// <summary>The final state of an assistant answer, saved once.</summary>
public sealed record FinalMessage(
    Guid MessageId, string Content, MessageStatus Status, long LastSequence, string? Error, string? FinishReason = null, TokenUsage? Usage = null);
