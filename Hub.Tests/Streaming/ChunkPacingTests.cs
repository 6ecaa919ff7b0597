using System.Diagnostics.Metrics;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Hub.Tests.Streaming;

/// <summary>The pacing's decisions, window by window, from the chunk writes it was told of (no timers, no servers).</summary>
public sealed class ChunkPacingTests : IDisposable
{
    private readonly ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CoarseClock clock = new(TimeProvider.System);

    // Each window's fastest write is the round trip itself; what the others take beyond it is waiting.
    private static readonly TimeSpan Quickest = TimeSpan.FromMilliseconds(0.3);
    private static readonly TimeSpan Slow = Quickest + ChunkPacing.HighWait + TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan Middling = Quickest + ((ChunkPacing.HighWait + ChunkPacing.LowWait) / 2);
    private static readonly TimeSpan Fast = Quickest + (ChunkPacing.LowWait / 4);

    [Fact]
    public void SlowWritesGrowTheLingerAStepAWindowUpToItsMaximumAndFastOnesTakeItBackToZero()
    {
        var pacing = Pacing(TimeSpan.FromMilliseconds(12));

        Assert.Equal(TimeSpan.Zero, pacing.Linger); // nothing known yet: no linger
        Assert.Equal(ChunkPacing.Step, Window(pacing, 100, Slow));
        Assert.Equal(2 * ChunkPacing.Step, Window(pacing, 100, Slow));
        Assert.Equal(TimeSpan.FromMilliseconds(12), Window(pacing, 100, Slow)); // capped at Chat:MaxChunkLinger
        Assert.Equal(TimeSpan.FromMilliseconds(12), Window(pacing, 100, Slow));
        Assert.Equal(TimeSpan.FromMilliseconds(12), Window(pacing, 100, Middling)); // between the thresholds: held
        Assert.Equal(TimeSpan.FromMilliseconds(7), Window(pacing, 100, Fast));
        Assert.Equal(TimeSpan.FromMilliseconds(2), pacing.EndWindow()); // nothing written: nothing to gather
        Assert.Equal(TimeSpan.Zero, Window(pacing, 100, Fast));
        Assert.Equal(TimeSpan.Zero, Window(pacing, 100, Fast));
        Assert.Equal(TimeSpan.Zero, pacing.Linger);
    }

    [Fact]
    public void ItIsTheWindowsMeanThatDecidesNotOneSlowWrite()
    {
        var pacing = Pacing(TimeSpan.FromMilliseconds(50));

        // One write of 50 ms among 99 fast ones (a GC pause, one batch behind a big one) is not an instance behind.
        pacing.Observe(TimeSpan.FromMilliseconds(50));
        Assert.Equal(TimeSpan.Zero, Window(pacing, 99, Fast));
        Assert.Equal(ChunkPacing.Step, Window(pacing, 100, Slow));
    }

    [Fact]
    public void ARedisFarAwayIsNotALoad()
    {
        var pacing = Pacing(TimeSpan.FromMilliseconds(50));

        // Every write takes longer than the threshold to start lingering, none less: that is the round trip, nothing
        // waits. No linger, however long it lasts (a mean write alone would have grown it from the first window).
        var roundTrip = ChunkPacing.HighWait + TimeSpan.FromMilliseconds(5);
        for (var i = 0; i < 5; i++)
        {
            for (var j = 0; j < 100; j++)
            {
                pacing.Observe(roundTrip);
            }

            Assert.Equal(TimeSpan.Zero, pacing.EndWindow());
        }

        // The same Redis while the instance is behind: the writes wait beyond the round trip.
        Assert.Equal(ChunkPacing.Step, Window(pacing, 100, roundTrip + Slow, fastest: roundTrip));
    }

    [Fact]
    public void AMaximumOfZeroNeverLingers()
    {
        var pacing = Pacing(TimeSpan.Zero);

        Assert.Equal(TimeSpan.Zero, Window(pacing, 100, TimeSpan.FromSeconds(1)));
        Assert.True(pacing.GatherAsync().IsCompleted);
    }

    [Fact]
    public async Task ARelayWaitsOnlyWhileThereIsALinger()
    {
        var pacing = Pacing(TimeSpan.FromMilliseconds(50));
        Assert.True(pacing.GatherAsync().IsCompleted); // keeping up: a chunk's next one is not held back at all

        Window(pacing, 100, Slow);
        var gathering = pacing.GatherAsync();
        Assert.False(gathering.IsCompleted);
        await gathering.WaitAsync(TimeSpan.FromSeconds(5)); // and it ends by itself (the shared clock's tick)
    }

    private ChunkPacing Pacing(TimeSpan maxLinger) => new(
        clock,
        TimeProvider.System,
        new WorkerMetrics(services.GetRequiredService<IMeterFactory>()),
        Options.Create(new ChatStreamingOptions { MaxChunkLinger = maxLinger }));

    /// <summary>One window: its fastest write (<see cref="Quickest"/> unless told), then <paramref name="writes"/> more.</summary>
    private static TimeSpan Window(ChunkPacing pacing, int writes, TimeSpan each, TimeSpan? fastest = null)
    {
        pacing.Observe(fastest ?? Quickest);
        for (var i = 0; i < writes; i++)
        {
            pacing.Observe(each);
        }

        return pacing.EndWindow(); // what ExecuteAsync does every ChunkPacing.Window
    }

    public void Dispose()
    {
        clock.Dispose();
        services.Dispose();
    }
}
