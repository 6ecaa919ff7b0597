using System.Diagnostics;

namespace ChatStreaming.Bench.Load;

/// <summary>
/// The simulated model of every pipeline that is not the product: token i (1-based) is due (i − 1) / tokensPerSecond
/// after the start, and is handed to <c>emit</c> with its text and the time it was emitted (Unix ms).
/// </summary>
internal static class PacedTokens
{
    public static async Task RunAsync(Guid streamId, int tokens, double tokensPerSecond, Func<int, string, double, Task> emit, CancellationToken stopping)
    {
        await Task.Yield();
        var start = Stopwatch.GetTimestamp();
        for (var i = 1; i <= tokens && !stopping.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds((i - 1) / tokensPerSecond) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, stopping);
            }

            await emit(i, SimulatedText.Token(streamId, i, tokens), Clock.UnixMilliseconds());
        }
    }
}
