namespace ChatStreaming.Bench.Load;

/// <summary>Producer-side figures: chunk write time percentiles (ms) and, for polling, how many polls found nothing.</summary>
internal sealed record ServerStats(double WriteP50, double WriteP99, long Writes, long Polls, long EmptyPolls);
