namespace ChatStreaming.Contracts;

/// <summary>
/// Tokens the caller's answers used with one model, by the time they ended: how many answers, and the tokens the model
/// reported for them (answers it reported nothing for count as zero).
/// </summary>
public sealed record ModelUsage(string Model, long Answers, long PromptTokens, long CompletionTokens)
{
    public long TotalTokens => PromptTokens + CompletionTokens;
}
