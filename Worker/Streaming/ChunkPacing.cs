using ChatStreaming.Worker.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// How long each answer's relay lets the model's deltas gather before its next chunk (<see cref="Linger"/>): zero while
/// this instance keeps up, so every delta goes out the moment it is read. Its signal is how long this instance's chunks
/// take to be written (<see cref="Observe"/>: the append script's round trip through the instance's one writer, and the
/// hop back to the relay), and of that, how much is waiting: a window's mean write beyond its fastest one, which is the
/// round trip itself (a Redis a few milliseconds away is not a load). It is well below a millisecond while the instance
/// keeps up and several when its threads wait for a CPU or its chunks queue for Redis. Every <see cref="Window"/> it
/// decides: above <see cref="HighWait"/> the linger grows a <see cref="Step"/>, up to Chat:MaxChunkLinger; below
/// <see cref="LowWait"/> (or with nothing written) it shrinks a step; between the two it holds. A chunk then carries
/// the tokens of its linger: the work done once per chunk (the script, the pub/sub message, a frame and its send per
/// client) stops growing with the token rate, and an overloaded instance's latency stays near its linger instead of
/// growing with its queues (docs/benchmarks-profile.md, "pacing chunks to the load"). What a client receives does not
/// change: every sequence once, in order, the same text.
/// </summary>
internal sealed class ChunkPacing(CoarseClock clock, TimeProvider timeProvider, WorkerMetrics metrics, IOptions<ChatStreamingOptions> options)
    : BackgroundService
{
    /// <summary>How often the linger is decided.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(100);

    /// <summary>The linger's change per window.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// A window's mean write beyond its fastest above this: the instance is behind, the linger grows. Well above what
    /// an instance near its knee shows (a linger there costs more latency than the queue it saves): at 5 ms a Redis
    /// Cluster on the benchmark's two cores lingered at 200 streams (docs/benchmarks-profile.md).
    /// </summary>
    public static readonly TimeSpan HighWait = TimeSpan.FromMilliseconds(10);

    /// <summary>A window's mean write beyond its fastest below this: the instance keeps up, the linger shrinks.</summary>
    public static readonly TimeSpan LowWait = TimeSpan.FromMilliseconds(2);

    private long lingerTicks;
    private long writeTicks;
    private long writes;
    private long fastestTicks = long.MaxValue;

    /// <summary>The relays' current linger: zero unless this instance is behind.</summary>
    public TimeSpan Linger => TimeSpan.FromTicks(Volatile.Read(ref lingerTicks));

    /// <summary>One chunk written, in <paramref name="elapsed"/>.</summary>
    public void Observe(TimeSpan elapsed)
    {
        Interlocked.Add(ref writeTicks, elapsed.Ticks);
        Interlocked.Increment(ref writes);
        var fastest = Volatile.Read(ref fastestTicks);
        while (elapsed.Ticks < fastest)
        {
            var seen = Interlocked.CompareExchange(ref fastestTicks, elapsed.Ticks, fastest);
            if (seen == fastest)
            {
                break;
            }

            fastest = seen;
        }
    }

    /// <summary>A relay's wait after a chunk: none while the instance keeps up, else the linger (on the shared clock).</summary>
    public Task GatherAsync() => Linger is { Ticks: > 0 } linger ? clock.DelayAsync(linger, CancellationToken.None) : Task.CompletedTask;

    /// <summary>Ends a window: the linger from now on, decided by the writes observed since the last window ended.</summary>
    internal TimeSpan EndWindow()
    {
        // A write observed while these are taken counts partly in this window, partly in the next: harmless.
        var count = Interlocked.Exchange(ref writes, 0);
        var total = TimeSpan.FromTicks(Interlocked.Exchange(ref writeTicks, 0));
        var fastest = TimeSpan.FromTicks(Interlocked.Exchange(ref fastestTicks, long.MaxValue));
        var waited = count == 0 || fastest.Ticks == long.MaxValue ? TimeSpan.Zero : Max((total / count) - fastest, TimeSpan.Zero);
        var linger = Linger;
        var next = waited > HighWait ? Min(linger + Step, options.Value.MaxChunkLinger)
            : waited < LowWait ? Max(linger - Step, TimeSpan.Zero)
            : linger;
        if (next != linger)
        {
            Volatile.Write(ref lingerTicks, next.Ticks);
            metrics.ChunkLinger(next.TotalMilliseconds);
        }

        return next;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.MaxChunkLinger <= TimeSpan.Zero)
        {
            return; // never linger: the relays coalesce only what waits for Redis
        }

        metrics.ChunkLinger(0); // the gauge is there from the start, not from the first change

        using var timer = new PeriodicTimer(Window, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                EndWindow();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
