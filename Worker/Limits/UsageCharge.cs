using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Limits;

/// <summary>
/// What an answer is charged (saved with it, counted against Chat:TokensPerDayPerUser, summed by GetUsage): the tokens
/// the model reported when it reported them for the whole answer; otherwise an estimate, marked
/// <see cref="TokenUsage.Estimated"/> — a cancelled or interrupted answer (most providers report usage only at the
/// end), or an answer another instance carried on (the stopped instance's part was never reported). The estimate is 4
/// characters a token (OpenAI's rule of thumb for English) of the text sent to the model and of everything streamed
/// (text, reasoning, tool calls and results); where the model reported some rounds, each count is the larger of the
/// two. An answer that streamed nothing is charged what the model reported, if anything.
/// </summary>
internal static class UsageCharge
{
    public const int CharactersPerToken = 4;

    /// <param name="reported">The usage the model reported for this instance's part (null: none).</param>
    /// <param name="wholeAnswer">The report covers the whole answer: it completed here from its start (or the provider resumed its own stream).</param>
    /// <param name="promptCharacters">Characters sent to the model for the answer's first request.</param>
    /// <param name="generatedCharacters">Characters this instance streamed, and those of the round it resumed at the provider (its report covers them).</param>
    /// <param name="inheritedCharacters">Characters the instance that stopped streamed that no report here covers (0: none).</param>
    /// <param name="oneRequest">The stopped instance's request is the answer's only one: the takeover resumed its
    /// response at the provider, or was cancelled before it asked (this instance sent no prompt again).</param>
    public static TokenUsage? Of(TokenUsage? reported, bool wholeAnswer, long promptCharacters, long generatedCharacters, long inheritedCharacters, bool oneRequest = false)
    {
        if ((wholeAnswer && reported is not null) || generatedCharacters + inheritedCharacters == 0)
        {
            return reported;
        }

        var prompt = Math.Max(reported?.PromptTokens ?? 0, Estimate(promptCharacters));
        var completion = Math.Max(reported?.CompletionTokens ?? 0, Estimate(generatedCharacters));
        if (inheritedCharacters > 0)
        {
            // What the stopped instance streamed, and its request unless it was the only one (a resumed response); this
            // instance's own request is in `prompt`.
            prompt += oneRequest ? 0 : Estimate(promptCharacters);
            completion += Estimate(inheritedCharacters);
        }

        return new TokenUsage(prompt, completion) { Estimated = true };
    }

    public static long Estimate(long characters) => (characters + CharactersPerToken - 1) / CharactersPerToken;

    /// <summary>The characters an answer streamed, every kind of part counted (what <see cref="Of"/> estimates from).</summary>
    public static long Characters(IReadOnlyList<MessagePart>? parts) => parts?.Sum(p => (long)p.Text.Length) ?? 0;
}
