using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Model;

/// <summary>How reading the model ended: the status it proposes, a client-safe error, the finish reason and usage.</summary>
internal sealed record ModelOutcome(MessageStatus Status, string? Error = null, string? FinishReason = null, TokenUsage? Usage = null);
