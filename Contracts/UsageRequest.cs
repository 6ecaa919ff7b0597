namespace ChatStreaming.Contracts;

/// <summary>The caller's usage between <see cref="From"/> (inclusive) and <see cref="To"/> (exclusive); open ends are unbounded.</summary>
public sealed record UsageRequest(DateTimeOffset? From = null, DateTimeOffset? To = null);
