using System.Diagnostics;
using System.Globalization;

namespace ChatStreaming.Bench.Load;

/// <summary>
/// Runs N concurrent streams through a pipeline, clients spread over its two instances, and measures. A stream still
/// running <paramref name="grace"/> (30 s by default) past its answer's length, counted from the last stream's start,
/// is cut off and counted unfinished.
/// </summary>
internal sealed class LoadRunner(SystemProbe probe, TimeSpan? grace = null)
{
    private readonly TimeSpan grace = grace ?? TimeSpan.FromSeconds(30);

    public async Task<PipelineResult> RunAsync(IPipeline pipeline, int streams, int tokens, double tokensPerSecond, TimeSpan? replayTtl, CancellationToken cancellationToken, string? samplesFile = null)
    {
        var connections = new IAsyncDisposable[streams][];
        var refused = 0;
        string? firstRefusal = null;
        await Parallel.ForEachAsync(Enumerable.Range(0, streams), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            try
            {
                connections[i] = await pipeline.ConnectAsync(i, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // A client the pipeline would not connect under this load: its stream counts as unfinished, the run goes on.
                connections[i] = [];
                Interlocked.Increment(ref refused);
                Interlocked.CompareExchange(ref firstRefusal, $"connecting: {ex.Message}", null);
            }
        });
        var results = Enumerable.Range(0, streams).Select(_ => new StreamResult(tokens)).ToArray();
        await pipeline.TakeServerStatsAsync(cancellationToken);
        await probe.ResetStatementsAsync();
        var redisBaseline = await probe.RedisUsedMemoryAsync(pipeline.OnRedisCluster);
        var redisPeak = redisBaseline;
        var cpuBefore = await probe.CpuSecondsAsync(pipeline.ServerProcessIds, pipeline.OnRedisCluster);
        var nodesBefore = pipeline.OnRedisCluster ? await probe.Cluster!.ReadAsync() : null;
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, streams), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            if (connections[i].Length == 0)
            {
                return; // not connected (counted above)
            }

            try
            {
                await pipeline.StartStreamAsync(connections[i], results[i], ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // A pipeline that cannot start a stream under this load: the stream counts as unfinished (its chunks as lost), the run goes on.
                Interlocked.Increment(ref refused);
                Interlocked.CompareExchange(ref firstRefusal, ex.Message, null);
            }
        });
        if (refused > 0)
        {
            Console.Error.WriteLine($"  {pipeline.Name}: {refused} of {streams} streams could not start ({firstRefusal}); counted as unfinished");
        }

        var allStarted = Clock.UnixMilliseconds();
        var startSeconds = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"  {pipeline.Name}: {streams} streams started in {startSeconds:0.0} s");
        double? firstFinished = null;

        // Every answer has its own length and the grace more after the last one started: counted from the step's start,
        // a step whose starts took most of it (2000 streams: ~30 s) called answers started last "unfinished" while they ran.
        var deadline = TimeSpan.FromSeconds(startSeconds + (tokens / tokensPerSecond)) + grace;
        var cpuProbes = new List<(double At, Dictionary<string, double> Seconds)>(); // for the steady window's CPU
        while (clock.Elapsed < deadline && results.Any(r => !r.Finished))
        {
            await Task.Delay(250, cancellationToken);
            cpuProbes.Add((Clock.UnixMilliseconds(), await probe.CpuSecondsAsync(pipeline.ServerProcessIds, pipeline.OnRedisCluster)));
            redisPeak = Math.Max(redisPeak, await probe.RedisUsedMemoryAsync(pipeline.OnRedisCluster));
            if (firstFinished is null && results.Any(r => r.Finished))
            {
                firstFinished = Clock.UnixMilliseconds() - 250; // it finished within the last poll
            }

            Progress(pipeline.Name, streams, results, clock.Elapsed);
        }

        var duration = clock.Elapsed.TotalSeconds;
        var cpuAfter = await probe.CpuSecondsAsync(pipeline.ServerProcessIds, pipeline.OnRedisCluster);
        var nodes = nodesBefore is null ? null : RedisNodesProbe.Between(nodesBefore, await probe.Cluster!.ReadAsync());
        var statements = await probe.StatementsAsync(pipeline.Database);
        var server = await pipeline.TakeServerStatsAsync(cancellationToken);
        redisPeak = Math.Max(redisPeak, await probe.RedisUsedMemoryAsync(pipeline.OnRedisCluster));
        await Task.WhenAll(connections.SelectMany(c => c).Select(c => c.DisposeAsync().AsTask()));
        Console.Error.WriteLine();

        long? afterTtl = null;
        if (replayTtl is { } ttl)
        {
            Console.Error.WriteLine($"  waiting {ttl.TotalSeconds:0} s for the replay buffers to expire…");
            await Task.Delay(ttl + TimeSpan.FromSeconds(2), cancellationToken);
            afterTtl = await probe.RedisUsedMemoryAsync(pipeline.OnRedisCluster);
        }

        var receivers = results.SelectMany(r => r.Receivers).ToArray();
        var samples = receivers.Select(r => (r.CrossInstance, Samples: r.Locked(x => x.Samples.ToArray()))).ToArray();
        var window = Window.Steady(allStarted, firstFinished ?? Clock.UnixMilliseconds());
        if (samplesFile is not null)
        {
            await WriteSamplesAsync(samplesFile, samples, window, cancellationToken);
        }

        var steadyCpu = SteadyCpu(samples, window, cpuProbes);
        double[] latencies = [.. samples.SelectMany(s => s.Samples).Select(s => s.Latency)];
        Array.Sort(latencies);
        return new PipelineResult(
            pipeline.Name, streams, duration, results.Sum(r => r.Received), latencies, SteadyWindow(samples, window) with { CpuSeconds = steadyCpu.Seconds, CpuDeliveries = steadyCpu.Deliveries },
            results.Sum(r => r.Lost), results.Sum(r => r.Duplicated), results.Count(r => !r.Finished), server, statements,
            cpuAfter.ToDictionary(c => c.Key, c => 100 * (c.Value - cpuBefore[c.Key]) / duration),
            redisBaseline, redisPeak, afterTtl, nodes, TokenDeliveries: (long)receivers.Length * tokens, StartSeconds: startSeconds);
    }

    /// <summary>
    /// Every delivery, for a closer look than percentiles (scripts/gc-tail.sh): a header line "# steady FROM TO" (Unix ms;
    /// -Infinity and Infinity for a whole run), then one line per delivery: "cross|same EMITTED_AT LATENCY" (Unix ms, ms).
    /// </summary>
    private static async Task WriteSamplesAsync(
        string path, (bool CrossInstance, (double EmittedAt, double Latency)[] Samples)[] receivers, Window window, CancellationToken cancellationToken)
    {
        IEnumerable<string> Lines()
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"# steady {window.From:0.###} {window.To:0.###}");
            foreach (var (crossInstance, samples) in receivers)
            {
                foreach (var (emittedAt, latency) in samples)
                {
                    yield return string.Create(CultureInfo.InvariantCulture, $"{(crossInstance ? "cross" : "same")} {emittedAt:0.###} {latency:0.###}");
                }
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllLinesAsync(path, Lines(), cancellationToken);
        Console.Error.WriteLine($"  samples: {path}");
    }

    private static Steady SteadyWindow((bool CrossInstance, (double EmittedAt, double Latency)[] Samples)[] receivers, Window window)
    {
        double[] Sorted(Func<bool, bool> which)
        {
            double[] values = [.. receivers.Where(r => which(r.CrossInstance)).SelectMany(r => r.Samples)
                .Where(s => window.Contains(s.EmittedAt)).Select(s => s.Latency)];
            Array.Sort(values);
            return values;
        }

        return new Steady(Sorted(cross => cross), Sorted(cross => !cross), Sorted(_ => true), window.Seconds, window.WholeRun);
    }

    /// <summary>CPU between the first and the last CPU probe inside the window, and the deliveries emitted between them.</summary>
    private static (Dictionary<string, double>? Seconds, long Deliveries) SteadyCpu(
        (bool CrossInstance, (double EmittedAt, double Latency)[] Samples)[] receivers, Window window, List<(double At, Dictionary<string, double> Seconds)> probes)
    {
        var inside = probes.Where(p => window.Contains(p.At)).ToList();
        if (window.WholeRun || inside.Count < 2)
        {
            return (null, 0);
        }

        var (from, to) = (inside[0], inside[^1]);
        var deliveries = receivers.Sum(r => r.Samples.Count(s => s.EmittedAt >= from.At && s.EmittedAt < to.At));
        return deliveries == 0 ? (null, 0) : (to.Seconds.ToDictionary(c => c.Key, c => c.Value - from.Seconds[c.Key]), deliveries);
    }

    /// <summary>
    /// The chunks whose latencies count (Unix ms of emission): from 1 s after the last stream started to 0.5 s before the
    /// first one finished, so neither the burst of sends nor the finishes are in it; the whole run when that leaves less
    /// than a second.
    /// </summary>
    private readonly record struct Window(double From, double To)
    {
        public static Window Steady(double allStarted, double firstFinished) =>
            firstFinished - 500 - (allStarted + 1000) < 1000
                ? new(double.NegativeInfinity, double.PositiveInfinity)
                : new(allStarted + 1000, firstFinished - 500);

        public bool WholeRun => double.IsInfinity(From);

        /// <summary>Its length; 0 for a whole run.</summary>
        public double Seconds => WholeRun ? 0 : (To - From) / 1000;

        public bool Contains(double emittedAt) => emittedAt >= From && emittedAt <= To;
    }

    private static void Progress(string pipeline, int streams, StreamResult[] results, TimeSpan elapsed)
    {
        long chunks = 0;
        var done = 0;
        foreach (var r in results)
        {
            chunks += r.Received;
            done += r.Finished ? 1 : 0;
        }

        Console.Error.Write($"\r  {pipeline,-8} {elapsed.TotalSeconds,5:0.0} s  streams done {done,5}/{streams}  chunks {chunks,8}  ");
    }
}
