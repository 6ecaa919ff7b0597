namespace ChatStreaming.Bench.Load;

/// <summary>Every figure of one pipeline at one stream count.</summary>
internal sealed record PipelineResult(
    string Pipeline,
    int Streams,
    double DurationSeconds,
    long Chunks,
    double[] SortedLatencies,
    Steady Steady,
    long Lost,
    long Duplicated,
    int UnfinishedStreams,
    ServerStats Server,
    long DbStatements,
    Dictionary<string, double> CpuPercent,
    long RedisBaselineBytes,
    long RedisPeakBytes,
    long? RedisAfterTtlBytes,
    IReadOnlyList<RedisNodeStats>? RedisNodes = null,
    long TokenDeliveries = 0,
    double StartSeconds = 0)
{
    /// <summary>Redis CPU (every node, on a cluster) per chunk written by the producing hubs, in µs.</summary>
    public double RedisCpuMicrosecondsPerChunkWritten =>
        Server.Writes == 0 || !CpuPercent.TryGetValue("redis", out var percent) ? double.NaN : percent / 100 * DurationSeconds * 1e6 / Server.Writes;

    public double P(double percentile) => Percentiles.Of(SortedLatencies, percentile);

    public double Max => SortedLatencies.Length == 0 ? double.NaN : SortedLatencies[^1];

    public double DbStatementsPerSecond => DurationSeconds > 0 ? DbStatements / DurationSeconds : 0;

    public double EmptyPollShare => Server.Polls == 0 ? 0 : (double)Server.EmptyPolls / Server.Polls;

    public double RedisBytesPerStream => Streams == 0 ? 0 : Math.Max(0, RedisPeakBytes - RedisBaselineBytes) / (double)Streams;

    /// <summary>CPU time of a group of processes (hubs, redis, postgres, client) per chunk delivered to a client, in µs.</summary>
    public double CpuMicrosecondsPerChunk(string processes) =>
        Chunks == 0 || !CpuPercent.TryGetValue(processes, out var percent) ? 0 : percent / 100 * DurationSeconds * 1e6 / Chunks;

    /// <summary>
    /// CPU time of a group of processes per token delivered to a client (the model's deltas × the clients watching), in
    /// µs: the same workload for every pipeline, whatever it coalesces. Per chunk (<see cref="CpuMicrosecondsPerChunk"/>)
    /// counts what each delivered, and a pipeline that merges deltas under load delivers fewer, bigger chunks.
    /// </summary>
    public double CpuMicrosecondsPerToken(string processes) =>
        TokenDeliveries == 0 || !CpuPercent.TryGetValue(processes, out var percent) ? 0 : percent / 100 * DurationSeconds * 1e6 / TokenDeliveries;

    /// <summary>The headline: cross-instance delivery in the steady window (all deliveries in it, for the baselines).</summary>
    public double[] Headline => Steady.CrossInstance.Length > 0 ? Steady.CrossInstance : Steady.All;

    public double H(double percentile) => Percentiles.Of(Headline, percentile);

    public double HeadlineMax => Headline.Length == 0 ? double.NaN : Headline[^1];

    public bool WithinSlo(double p99Milliseconds) => Lost == 0 && Duplicated == 0 && UnfinishedStreams == 0 && H(99) <= p99Milliseconds;

    /// <summary>The measured runs this result pools (<see cref="Pool"/>), in the order they ran; itself when it is one run.</summary>
    public IReadOnlyList<PipelineResult> Rounds { get => pooledRounds ?? [this]; private init => pooledRounds = value; }

    private readonly IReadOnlyList<PipelineResult>? pooledRounds;

    /// <summary>
    /// One pipeline's rounds of the same run (<c>--rounds</c>), as one result: every delivery of every round in the
    /// percentiles (a round too short for a steady window adds all of its deliveries to the steady figures); CPU,
    /// statements, deliveries and losses summed over the rounds' time; Redis memory from the round that waited out the
    /// replay TTL (its baseline, peak and after), else the one that used most; the server's
    /// write-time percentiles averaged over the rounds, weighted by their writes (the hubs report histograms per scrape,
    /// not the samples).
    /// </summary>
    public static PipelineResult Pool(IReadOnlyList<PipelineResult> rounds)
    {
        if (rounds.Count == 1)
        {
            return rounds[0];
        }

        var duration = rounds.Sum(r => r.DurationSeconds);
        var withSteadyCpu = rounds.Where(r => r.Steady.CpuSeconds is not null).ToList();
        var steady = new Steady(
            Merged(rounds, r => r.Steady.CrossInstance), Merged(rounds, r => r.Steady.SameInstance), Merged(rounds, r => r.Steady.All),
            rounds.Sum(r => r.Steady.WindowSeconds), rounds.All(r => r.Steady.WholeRun))
        {
            CpuSeconds = withSteadyCpu.Count == 0 ? null
                : withSteadyCpu[0].Steady.CpuSeconds!.Keys.ToDictionary(k => k, k => withSteadyCpu.Sum(r => r.Steady.CpuSeconds![k])),
            CpuDeliveries = withSteadyCpu.Sum(r => r.Steady.CpuDeliveries),
        };
        var server = new ServerStats(
            Weighted(rounds, r => r.Server.WriteP50, r => r.Server.Writes), Weighted(rounds, r => r.Server.WriteP99, r => r.Server.Writes),
            rounds.Sum(r => r.Server.Writes), rounds.Sum(r => r.Server.Polls), rounds.Sum(r => r.Server.EmptyPolls),
            Weighted(rounds, r => r.Server.ProducedToRedisP50, r => r.Server.Writes), Weighted(rounds, r => r.Server.ProducedToOtherHubP50, r => r.Server.Writes));
        var memory = rounds.LastOrDefault(r => r.RedisAfterTtlBytes is not null) ?? rounds.MaxBy(r => r.RedisPeakBytes - r.RedisBaselineBytes)!;
        var nodes = rounds[0].RedisNodes is null ? null : rounds.SelectMany(r => r.RedisNodes!).GroupBy(n => n.EndPoint).Select(g => g.Aggregate((a, b) => a with
        {
            CpuSeconds = a.CpuSeconds + b.CpuSeconds,
            Scripts = a.Scripts + b.Scripts,
            ShardedPublishes = a.ShardedPublishes + b.ShardedPublishes,
            Publishes = a.Publishes + b.Publishes,
            BusPublishesReceived = a.BusPublishesReceived + b.BusPublishesReceived,
            BusShardedPublishesReceived = a.BusShardedPublishesReceived + b.BusShardedPublishesReceived,
        })).ToList();
        return new PipelineResult(
            rounds[0].Pipeline, rounds[0].Streams, duration, rounds.Sum(r => r.Chunks), Merged(rounds, r => r.SortedLatencies), steady,
            rounds.Sum(r => r.Lost), rounds.Sum(r => r.Duplicated), rounds.Sum(r => r.UnfinishedStreams), server, rounds.Sum(r => r.DbStatements),
            rounds[0].CpuPercent.Keys.ToDictionary(k => k, k => rounds.Sum(r => r.CpuPercent[k] * r.DurationSeconds) / duration),
            memory.RedisBaselineBytes, memory.RedisPeakBytes, rounds.LastOrDefault(r => r.RedisAfterTtlBytes is not null)?.RedisAfterTtlBytes, nodes,
            rounds.Sum(r => r.TokenDeliveries), rounds.Average(r => r.StartSeconds))
        {
            Rounds = rounds,
        };
    }

    private static double[] Merged(IReadOnlyList<PipelineResult> rounds, Func<PipelineResult, double[]> sorted)
    {
        double[] all = [.. rounds.SelectMany(sorted)];
        Array.Sort(all);
        return all;
    }

    private static double Weighted(IReadOnlyList<PipelineResult> rounds, Func<PipelineResult, double> value, Func<PipelineResult, double> weight)
    {
        var counted = rounds.Where(r => !double.IsNaN(value(r)) && weight(r) > 0).ToList();
        return counted.Count == 0 ? double.NaN : counted.Sum(r => value(r) * weight(r)) / counted.Sum(weight);
    }
}

/// <summary>
/// Latencies (sorted, ms) of the chunks emitted in the steady window: after every stream has started (plus a second),
/// before the first one finished (less half a second), so neither the burst of sends nor the finishes are in it.
/// <see cref="WholeRun"/> is set when the run was too short for a window of a second (then every chunk counts).
/// </summary>
internal sealed record Steady(double[] CrossInstance, double[] SameInstance, double[] All, double WindowSeconds, bool WholeRun)
{
    /// <summary>
    /// CPU time of each group of processes per delivery while every stream ran (µs): the CPU read at the first and the
    /// last probe inside the window, over the deliveries emitted between them. Without what starting and saving answers
    /// cost, which the run's own figure includes. Null for a whole run (no window).
    /// </summary>
    public IReadOnlyDictionary<string, double>? CpuMicrosecondsPerChunk =>
        CpuSeconds is null || CpuDeliveries == 0 ? null : CpuSeconds.ToDictionary(c => c.Key, c => c.Value * 1e6 / CpuDeliveries);

    /// <summary>CPU seconds of each group of processes between the window's first and last probe (null: no window, or no two probes in it).</summary>
    public IReadOnlyDictionary<string, double>? CpuSeconds { get; init; }

    /// <summary>The deliveries emitted between those two probes.</summary>
    public long CpuDeliveries { get; init; }
}
