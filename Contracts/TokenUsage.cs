namespace ChatStreaming.Contracts;

/// <summary>
/// Token counts for one answer: what the model reported, or, when <see cref="Estimated"/>, an estimate (in whole or in
/// part) for an answer whose model never reported them — cancelled, interrupted, or carried on by another instance
/// after its first one stopped (4 characters a token, of the text sent and of everything streamed).
/// </summary>
public sealed record TokenUsage(long PromptTokens, long CompletionTokens)
{
    /// <summary>True when some of these tokens are estimated rather than reported by the model.</summary>
    public bool Estimated { get; init; }
}
