namespace ChatStreaming.Bench.Load;

/// <summary>Every figure of one pipeline at one stream count.</summary>
internal sealed record PipelineResult(
    string Pipeline,
    int Streams,
    double DurationSeconds,
    long Chunks,
    double[] SortedLatencies,
    long Lost,
    long Duplicated,
    int UnfinishedStreams,
    ServerStats Server,
    long DbStatements,
    Dictionary<string, double> CpuPercent,
    long RedisBaselineBytes,
    long RedisPeakBytes,
    long? RedisAfterTtlBytes)
{
    public double P(double percentile) => Percentiles.Of(SortedLatencies, percentile);

    public double Max => SortedLatencies.Length == 0 ? double.NaN : SortedLatencies[^1];

    public double DbStatementsPerSecond => DurationSeconds > 0 ? DbStatements / DurationSeconds : 0;

    public double EmptyPollShare => Server.Polls == 0 ? 0 : (double)Server.EmptyPolls / Server.Polls;

    public double RedisBytesPerStream => Streams == 0 ? 0 : Math.Max(0, RedisPeakBytes - RedisBaselineBytes) / (double)Streams;

    /// <summary>CPU time of a group of processes (hubs, redis, postgres) per chunk delivered to a client, in µs.</summary>
    public double CpuMicrosecondsPerChunk(string processes) =>
        Chunks == 0 || !CpuPercent.TryGetValue(processes, out var percent) ? 0 : percent / 100 * DurationSeconds * 1e6 / Chunks;

    public bool WithinSlo(double p99Milliseconds) => Lost == 0 && Duplicated == 0 && UnfinishedStreams == 0 && P(99) <= p99Milliseconds;
}
