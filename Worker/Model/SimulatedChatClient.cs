using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// The offline model: a deterministic answer derived from the last user message, streamed one token (a word and its
/// space) at a time at <see cref="SimulatedModelOptions.TokensPerSecond"/>, all answers paced by one shared
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

    /// <summary>The answer's tokens: an echo of the prompt's start, then words picked by a hash of the prompt.</summary>
    public static IEnumerable<string> Tokens(string prompt, int count)
    {
        var seed = Fnv1a(prompt);
        var echo = prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Take(4).ToArray();
        for (var i = 0; i < count; i++)
        {
            if (i == 0)
            {
                yield return "Simulated ";
                continue;
            }

            if (i <= echo.Length)
            {
                yield return echo[i - 1] + " ";
                continue;
            }

            seed = unchecked((seed ^ (uint)i) * 16777619u);
            yield return Words[seed % (uint)Words.Length] + (i == count - 1 ? "." : " ");
        }
    }

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
