using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// How reading the model ended: the status it proposes, a client-safe error, the finish reason and usage; and, for a
/// background response of the Responses API, its id at the provider (where it may still be generating if it did not end).
/// </summary>
internal sealed record ModelOutcome(MessageStatus Status, string? Error = null, string? FinishReason = null, TokenUsage? Usage = null)
{
    /// <summary>The error of an answer cut by the instance's stop (past Chat:ShutdownGrace).</summary>
    public const string ShutDownDuringAnswer = "the server shut down during the answer";

    public string? BackgroundResponseId { get; init; }
}
