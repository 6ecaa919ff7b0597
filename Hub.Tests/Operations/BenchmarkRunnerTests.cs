using System.Diagnostics;
using ChatStreaming.Bench.Load;

namespace ChatStreaming.Hub.Tests.Operations;

/// <summary>
/// The benchmark's load runner and its wait for a settled machine, against a pipeline of its own (no servers): what
/// they decide is what the published tables count as unfinished, and when a pipeline's run may start.
/// </summary>
[Collection(OutageCollection.Name)]
public sealed class BenchmarkRunnerTests(ChatCluster cluster)
{
    [Fact]
    public async Task AnswersStartedLateStillGetTheirLengthAndTheGraceWhileAStuckOneIsCutOffAsUnfinished()
    {
        // Starting the streams takes 3 s, each answer 1 s, the grace is 2 s: a deadline counted from the step's start
        // (3 s) would cut every answer off before it began; counted from the last start (6 s) only the stuck one.
        var pipeline = new ScriptedPipeline(startTakes: TimeSpan.FromSeconds(3), tokens: 10, tokensPerSecond: 10, stuckAfter: 5);
        var runner = new LoadRunner(Probe(), grace: TimeSpan.FromSeconds(2));

        // Bounded: without a deadline the stuck stream would keep the run waiting forever.
        var result = await runner.RunAsync(pipeline, streams: 4, tokens: 10, tokensPerSecond: 10, replayTtl: null, CancellationToken.None).WithTimeout(TimeSpan.FromMinutes(1));

        Assert.Equal(1, result.UnfinishedStreams);
        Assert.Equal(3 * 10 + 5, result.Chunks);
        Assert.Equal(0, result.Duplicated);
        // Within 0.1 s: a timer's 3 s can end a few milliseconds short by the Stopwatch (seen in a clean-clone run: 2.99 s).
        Assert.True(result.StartSeconds >= 2.9, $"the streams started in {result.StartSeconds:0.000} s");
        Assert.True(result.DurationSeconds >= result.StartSeconds + 1 + 2 - 0.1, $"the run ended at {result.DurationSeconds:0.000} s, before the stuck answer's deadline");
    }

    [Fact]
    public async Task SettlingWaitsWhileAServerIsBusyAndEndsOnceItIsIdle()
    {
        // Four spinning servers: together far above the fifth of a core it waits for, even on a machine busy with other
        // tests (two were not: a busy-core suite run gave them less than that in one second, as its other tests ran).
        var spinning = Enumerable.Range(0, 4).Select(_ => Spin()).ToList();
        Task<TimeSpan> settling;
        try
        {
            settling = Probe().SettleAsync([.. spinning.Select(s => s.Id)], CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(settling.IsCompleted, "it stopped waiting while its servers were busy");
        }
        finally
        {
            foreach (var spin in spinning)
            {
                spin.Kill(); // never left spinning, whatever failed
                spin.Dispose();
            }
        }

        var waited = await settling.WithTimeout(TimeSpan.FromMinutes(2));
        Assert.InRange(waited, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(50)); // it ended once they stopped, not at its one-minute limit
    }

    private SystemProbe Probe() => new(cluster.RedisClient, cluster: null, cluster.Db, cluster.Postgres.DataDirectory);

    private static Process Spin() => Process.Start(new ProcessStartInfo("sh", ["-c", "while :; do :; done"])) ?? throw new InvalidOperationException("sh did not start");

    /// <summary>Streams whose starts take <paramref name="startTakes"/>; the first one started stops after <paramref name="stuckAfter"/> chunks and never ends.</summary>
    private sealed class ScriptedPipeline(TimeSpan startTakes, int tokens, double tokensPerSecond, int stuckAfter) : IPipeline
    {
        private int started;

        public string Name => "scripted";

        public IReadOnlyList<string> Urls => [];

        public IReadOnlyList<int> ServerProcessIds => [];

        public Task<IAsyncDisposable[]> ConnectAsync(int index, CancellationToken cancellationToken) =>
            Task.FromResult<IAsyncDisposable[]>([new Nothing()]);

        public async Task<Guid> StartStreamAsync(IAsyncDisposable[] connections, StreamResult result, CancellationToken cancellationToken)
        {
            await Task.Delay(startTakes, cancellationToken);
            var receiver = result.Add(crossInstance: true);
            var last = Interlocked.Increment(ref started) == 1 ? stuckAfter : tokens;
            _ = Task.Run(async () =>
            {
                for (var sequence = 1; sequence <= last; sequence++)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1 / tokensPerSecond));
                    var now = Clock.UnixMilliseconds();
                    receiver.Chunk(sequence, "x", now, now);
                }

                if (last == tokens)
                {
                    receiver.Locked(r => (r.Expected, r.Finished) = (tokens, true));
                }
            }, CancellationToken.None);
            return Guid.NewGuid();
        }

        public Task<ServerStats> TakeServerStatsAsync(CancellationToken cancellationToken) =>
            Task.FromResult(new ServerStats(0, 0, 0, 0, 0));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Nothing : IAsyncDisposable
        {
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
