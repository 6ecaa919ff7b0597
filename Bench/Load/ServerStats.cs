namespace ChatStreaming.Bench.Load;

/// <summary>
/// Server-side figures: chunk write time percentiles (ms) and, for polling, how many polls found nothing. The product
/// also reports where a chunk's time goes (p50, ms since the model emitted it): in Redis and written to the producing
/// hub's clients, and received from Redis by the other hub (NaN for the baselines).
/// </summary>
internal sealed record ServerStats(double WriteP50, double WriteP99, long Writes, long Polls, long EmptyPolls, double ProducedToRedisP50 = double.NaN, double ProducedToOtherHubP50 = double.NaN)
{
    /// <summary>A pipeline that reports nothing of its servers (the peers).</summary>
    public static ServerStats None { get; } = new(double.NaN, double.NaN, 0, 0, 0);
}
