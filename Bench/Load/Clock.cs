namespace ChatStreaming.Bench.Load;

/// <summary>The one clock every process on this machine shares: Unix epoch milliseconds, with a fraction.</summary>
internal static class Clock
{
    public static double UnixMilliseconds() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).TotalMilliseconds;
}
