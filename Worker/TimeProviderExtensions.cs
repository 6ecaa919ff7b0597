namespace ChatStreaming.Worker;

internal static class TimeProviderExtensions
{
    /// <summary>Now as Unix epoch milliseconds, with a fraction: the clock of <c>Chunk.EmittedAt</c>.</summary>
    public static double UnixMilliseconds(this TimeProvider time) => (time.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalMilliseconds;
}
