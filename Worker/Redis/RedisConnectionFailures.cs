using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>
/// Counts this instance's Redis connection failures (a node killed, restarted or unreachable; a failover). Whoever kept
/// something in memory that Redis may have lost meanwhile compares the count it last checked against with
/// <see cref="Count"/>: the running answers do, to write back the replay-buffer tail a failover took
/// (<see cref="Generation.AnswerChunks"/>).
/// </summary>
internal sealed class RedisConnectionFailures
{
    private long count;

    public RedisConnectionFailures(IConnectionMultiplexer redis) =>
        redis.ConnectionFailed += (_, _) => Interlocked.Increment(ref count);

    /// <summary>Failures seen so far.</summary>
    public long Count => Interlocked.Read(ref count);
}
