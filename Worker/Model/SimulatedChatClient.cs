using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// The offline model: a deterministic answer in Markdown derived from the last user message, streamed one token (a
/// word and its space, or a piece of Markdown) at a time at <see cref="SimulatedModelOptions.TokensPerSecond"/>, all answers paced by one shared
/// <see cref="SimulatedClock"/>. Same prompt, same answer.
/// </summary>
public sealed class SimulatedChatClient(IOptions<SimulatedModelOptions> settings, SimulatedClock clock, TimeProvider timeProvider) : IChatClient
{
    private static readonly string[] Words =
    [
        "stream", "redis", "chunk", "signal", "answer", "token", "replay", "order", "sequence", "latency", "push",
        "instance", "backplane", "message", "group", "client", "server", "durable", "buffer", "expire", "fast",
        "the", "a", "of", "to", "and", "in", "is", "it", "that", "for", "on", "with", "as", "we", "every", "once",
        "postgres", "saved", "final", "delta", "model", "worker", "hub", "scale", "out", "nothing", "lost",
    ];

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
        var tokensPerSecond = settings.Value.TokensPerSecond;
        var responseTokens = options is { MaxOutputTokens: > 0 }
            ? Math.Min(settings.Value.ResponseTokens, options.MaxOutputTokens.Value)
            : settings.Value.ResponseTokens;
        var prompt = messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
        var start = timeProvider.GetTimestamp();
        var index = 0;
        foreach (var token in Tokens(prompt, responseTokens))
        {
            if (tokensPerSecond > 0)
            {
                // Paced against the start, not the previous token, so timer slack does not accumulate.
                var due = TimeSpan.FromSeconds(index / tokensPerSecond) - timeProvider.GetElapsedTime(start);
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
            yield return new ChatResponseUpdate(ChatRole.Assistant, token) { FinishReason = index == responseTokens ? ChatFinishReason.Stop : null };
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
