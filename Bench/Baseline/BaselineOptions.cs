namespace ChatStreaming.Bench.Baseline;

/// <summary>Notify: LISTEN/NOTIFY. Batched: one query per instance per interval for every stream it watches (best polling).</summary>
internal sealed record BaselineOptions(bool Notify, bool Batched, TimeSpan PollInterval);
