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
    public IReadOnlyDictionary<string, double>? CpuMicrosecondsPerChunk { get; init; }
}
