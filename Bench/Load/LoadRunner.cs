using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Bench.Load;

/// <summary>Runs N concurrent streams through a pipeline, clients spread over its two instances, and measures.</summary>
internal sealed class LoadRunner(SystemProbe probe)
{
    public async Task<PipelineResult> RunAsync(IPipeline pipeline, int streams, int tokens, double tokensPerSecond, TimeSpan? replayTtl, CancellationToken cancellationToken)
    {
        var connections = new HubConnection[streams];
        await Parallel.ForEachAsync(Enumerable.Range(0, streams), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
            connections[i] = await pipeline.ConnectAsync(pipeline.Urls[i % pipeline.Urls.Count], i, ct));
        var results = Enumerable.Range(0, streams).Select(_ => new StreamResult()).ToArray();
        await pipeline.TakeServerStatsAsync(cancellationToken);
        await probe.ResetStatementsAsync();
        var redisBaseline = await probe.RedisUsedMemoryAsync();
        var redisPeak = redisBaseline;
        var cpuBefore = await probe.CpuSecondsAsync(pipeline.ServerProcessIds);
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, streams), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (i, ct) =>
            await pipeline.StartStreamAsync(connections[i], results[i], ct));

        var deadline = TimeSpan.FromSeconds((tokens / tokensPerSecond) + 30);
        while (clock.Elapsed < deadline && results.Any(r => !IsFinished(r)))
        {
            await Task.Delay(250, cancellationToken);
            redisPeak = Math.Max(redisPeak, await probe.RedisUsedMemoryAsync());
            Progress(pipeline.Name, streams, results, clock.Elapsed);
        }

        var duration = clock.Elapsed.TotalSeconds;
        var cpuAfter = await probe.CpuSecondsAsync(pipeline.ServerProcessIds);
        var statements = await probe.StatementsAsync();
        var server = await pipeline.TakeServerStatsAsync(cancellationToken);
        redisPeak = Math.Max(redisPeak, await probe.RedisUsedMemoryAsync());
        await Task.WhenAll(connections.Select(c => c.DisposeAsync().AsTask()));
        Console.Error.WriteLine();

        long? afterTtl = null;
        if (replayTtl is { } ttl)
        {
            Console.Error.WriteLine($"  waiting {ttl.TotalSeconds:0} s for the replay buffers to expire…");
            await Task.Delay(ttl + TimeSpan.FromSeconds(2), cancellationToken);
            afterTtl = await probe.RedisUsedMemoryAsync();
        }

        double[] latencies;
        lock (results)
        {
            latencies = [.. results.SelectMany(r => r.Latencies)];
        }

        Array.Sort(latencies);
        return new PipelineResult(
            pipeline.Name, streams, duration, results.Sum(r => r.Received), latencies,
            results.Sum(r => r.Lost), results.Sum(r => r.Duplicated), results.Count(r => !IsFinished(r)), server, statements,
            cpuAfter.ToDictionary(c => c.Key, c => 100 * (c.Value - cpuBefore[c.Key]) / duration),
            redisBaseline, redisPeak, afterTtl);
    }

    private static bool IsFinished(StreamResult result)
    {
        lock (result)
        {
            return result.Finished;
        }
    }

    private static void Progress(string pipeline, int streams, StreamResult[] results, TimeSpan elapsed)
    {
        long chunks = 0;
        var done = 0;
        foreach (var r in results)
        {
            lock (r)
            {
                chunks += r.Received;
                done += r.Finished ? 1 : 0;
            }
        }

        Console.Error.Write($"\r  {pipeline,-8} {elapsed.TotalSeconds,5:0.0} s  streams done {done,5}/{streams}  chunks {chunks,8}  ");
    }
}
