namespace ChatStreaming.Contracts;

/// <summary>
/// Tokens the caller's answers used with one model, by the time they ended: how many answers, and the tokens the model
/// reported for them, or estimated where it reported nothing (<see cref="EstimatedAnswers"/> of them; see
/// <see cref="TokenUsage.Estimated"/>). Answers that streamed nothing count as zero.
/// </summary>
public sealed record ModelUsage(string Model, long Answers, long PromptTokens, long CompletionTokens)
{
    /// <summary>How many of <see cref="Answers"/> have estimated tokens in these totals.</summary>
    public long EstimatedAnswers { get; init; }

    public long TotalTokens => PromptTokens + CompletionTokens;
}
