using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// The offline model: a deterministic answer in Markdown derived from the last user message, streamed one token (a
/// word and its space, or a piece of Markdown) at a time at <see cref="SimulatedModelOptions.TokensPerSecond"/>, all
/// answers paced by one shared <see cref="CoarseClock"/>. Same prompt, same answer. It can also stream
/// <see cref="SimulatedModelOptions.ReasoningTokens"/> of reasoning first, and when it is offered tools and the question
/// asks it to "search", it calls the first tool with the words after "for" (or after "search") as <c>query</c>, then
/// answers. Every round reports its usage: the words it was sent, the tokens it streamed.
/// </summary>
internal sealed class SimulatedChatClient(SimulatedModelOptions settings, CoarseClock clock, TimeProvider timeProvider) : IChatClient
{
    private static readonly string[] Words =
    [
        "stream", "redis", "chunk", "signal", "answer", "token", "replay", "order", "sequence", "latency", "push",
        "instance", "backplane", "message", "group", "client", "server", "durable", "buffer", "expire", "fast",
        "the", "a", "of", "to", "and", "in", "is", "it", "that", "for", "on", "with", "as", "we", "every", "once",
        "postgres", "saved", "final", "delta", "model", "worker", "hub", "scale", "out", "nothing", "lost",
    ];

    /// <summary>The first token of an answer given after a tool's result.</summary>
    public const string AfterTool = "I looked through your earlier messages first. ";

    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            updates.Add(update);
        }

        return updates.ToChatResponse();
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var sent = messages.ToList();
        var responseTokens = options is { MaxOutputTokens: > 0 }
            ? Math.Min(settings.ResponseTokens, options.MaxOutputTokens.Value)
            : settings.ResponseTokens;
        // A takeover (ConversationContext.Continue): the tool round it made, the answer so far, then the instruction to go
        // on. Same question, same answer: it resumes exactly where the partial answer stopped, without calling again.
        var continuing = sent.Count >= 2 && sent[^1].Role == ChatRole.User && sent[^1].Text == ConversationContext.ContinueInstruction;
        var before = continuing ? sent[..^1] : sent;
        var partial = "";
        if (continuing && before[^1].Role == ChatRole.Assistant && !before[^1].Contents.OfType<FunctionCallContent>().Any())
        {
            partial = before[^1].Text;
            before = before[..^1];
        }

        var prompt = before.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
        var afterTool = before.Count > 0 && before[^1].Contents.OfType<FunctionResultContent>().Any();
        var start = timeProvider.GetTimestamp();
        var index = 0;
        var streamed = 0;

        // Once per token, each awaited once: a pooled state machine instead of one allocated per token.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        async ValueTask PaceAsync()
        {
            if (settings.TokensPerSecond > 0)
            {
                // Paced against the start, not the previous token, so timer slack does not accumulate.
                var due = TimeSpan.FromSeconds(index / settings.TokensPerSecond) - timeProvider.GetElapsedTime(start);
                if (due > TimeSpan.Zero)
                {
                    await clock.DelayAsync(due, cancellationToken);
                }
            }
            else if (index % 16 == 0)
            {
                await Task.Yield();
            }

            cancellationToken.ThrowIfCancellationRequested();
            index++;
        }

        if (!afterTool && !continuing)
        {
            foreach (var token in Reasoning(prompt, settings.ReasoningTokens))
            {
                await PaceAsync();
                streamed++;
                yield return new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [new TextReasoningContent(token)] };
            }

            if (options?.Tools?.OfType<AIFunction>().FirstOrDefault() is { } tool && ToolQuery(prompt) is { } query)
            {
                await PaceAsync();
                var call = new FunctionCallContent($"call_sim_{Fnv1a(prompt):x8}", tool.Name, new Dictionary<string, object?> { ["query"] = query });
                yield return new ChatResponseUpdate
                {
                    Role = ChatRole.Assistant,
                    Contents = [call, Usage(sent, 1)],
                    FinishReason = ChatFinishReason.ToolCalls,
                };
                yield break;
            }
        }

        List<string> tokens = [.. Tokens(prompt, responseTokens)];
        if (afterTool)
        {
            tokens.Insert(0, AfterTool);
        }

        if (continuing)
        {
            tokens = Remainder(tokens, partial);
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            await PaceAsync();
            streamed++;
            var last = i == tokens.Count - 1;
            yield return new ChatResponseUpdate(ChatRole.Assistant, tokens[i]) { FinishReason = last ? ChatFinishReason.Stop : null };
        }

        // Nothing left to say (a continuation of an answer that had streamed everything but its end) still finishes.
        yield return new ChatResponseUpdate { Role = ChatRole.Assistant, Contents = [Usage(sent, streamed)], FinishReason = tokens.Count == 0 ? ChatFinishReason.Stop : null };
    }

    /// <summary>
    /// The tokens after <paramref name="partial"/> when the answer starts with it (cut inside a token if it stops there);
    /// otherwise the whole answer again.
    /// </summary>
    private static List<string> Remainder(List<string> tokens, string partial)
    {
        var at = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var end = at + tokens[i].Length;
            if (end > partial.Length)
            {
                var whole = string.Concat(tokens);
                if (!whole.StartsWith(partial, StringComparison.Ordinal))
                {
                    return tokens;
                }

                return [tokens[i][(partial.Length - at)..], .. tokens.Skip(i + 1)];
            }

            at = end;
        }

        return []; // it had streamed everything but its end
    }

    private static UsageContent Usage(IReadOnlyList<ChatMessage> sent, int streamed)
    {
        var words = sent.Sum(m => m.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);
        return new UsageContent(new UsageDetails { InputTokenCount = words, OutputTokenCount = streamed, TotalTokenCount = words + streamed });
    }

    /// <summary>What to search for when the question asks to "search": the words after "for" (or after "search"), at most six.</summary>
    private static string? ToolQuery(string prompt)
    {
        var words = prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.Trim('.', ',', '?', '!', ':', ';', '"', '\'')).Where(w => w.Length > 0).ToList();
        var search = words.FindIndex(w => w.StartsWith("search", StringComparison.OrdinalIgnoreCase));
        if (search < 0)
        {
            return null;
        }

        var after = words.FindIndex(search, w => w.Equals("for", StringComparison.OrdinalIgnoreCase));
        var query = words.Skip((after >= 0 ? after : search) + 1).Take(6).ToList();
        return query.Count > 0 ? string.Join(' ', query) : null;
    }

    /// <summary>The reasoning tokens: a few deterministic sentences about the question.</summary>
    private static IEnumerable<string> Reasoning(string prompt, int count)
    {
        var seed = Fnv1a(prompt);
        var topic = prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "this";
        string[] opening = ["The ", "question ", "is ", "about ", $"{topic}. ", "I ", "should ", "answer ", "with ", "a ", "short ", "list. "];
        for (var i = 0; i < count; i++)
        {
            seed = unchecked((seed ^ (uint)i) * 16777619u);
            yield return i < opening.Length ? opening[i] : Words[seed % (uint)Words.Length] + (i == count - 1 ? "." : " ");
        }
    }

    /// <summary>
    /// The answer's tokens, read like an answer in Markdown: an echo of the prompt's start, a heading, a short list, a code
    /// block and a table (their words picked from the corpus by a hash of the prompt), then paragraphs of corpus words;
    /// the last token ends with a full stop. Same prompt and count, same tokens.
    /// </summary>
    public static IEnumerable<string> Tokens(string prompt, int count)
    {
        var seed = Fnv1a(prompt);
        string Pick(int i)
        {
            seed = unchecked((seed ^ (uint)i) * 16777619u);
            return Words[seed % (uint)Words.Length];
        }

        var echo = prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Take(4).ToArray();
        List<string> skeleton = ["Simulated ", .. echo.Select(w => w + " ")];
        skeleton.AddRange(
        [
            "\n\n## ", $"{Title(Pick(1))} ", "notes\n\n",
            $"- **{Pick(2)}** ", $"{Pick(3)} ", $"{Pick(4)}\n",
            $"- **{Pick(5)}** ", $"{Pick(6)} ", $"{Pick(7)}\n",
            $"- **{Pick(8)}** ", $"{Pick(9)} ", $"{Pick(10)}\n\n",
            "```\n", $"var {Pick(11)} = await hub.NextAsync(\"{Pick(12)}\");\n", "```\n\n",
            "| step | milliseconds |\n", "|---|---|\n", $"| {Pick(13)} | {1 + (seed % 5)} |\n", $"| {Pick(14)} | {50 + (seed % 100)} |\n\n",
        ]);
        for (var i = 0; i < count; i++)
        {
            if (i == count - 1)
            {
                yield return Pick(i + 100) + ".";
            }
            else if (i < skeleton.Count)
            {
                yield return skeleton[i];
            }
            else
            {
                // Paragraphs after the skeleton: a sentence every 12 words, a new paragraph every 48.
                var n = i - skeleton.Count + 1;
                yield return Pick(i + 100) + (n % 48 == 0 ? ".\n\n" : n % 12 == 0 ? ". " : " ");
            }
        }
    }

    private static string Title(string word) => char.ToUpperInvariant(word[0]) + word[1..];

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return hash;
    }
}
