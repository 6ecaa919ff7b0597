namespace ChatStreaming.Bench.Baseline;

internal sealed record BaselineOptions(bool Notify, TimeSpan PollInterval);
