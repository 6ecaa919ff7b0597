namespace ChatStreaming.Worker.Redis;

/// <summary>
/// Time in the Lua scripts: Redis's own (<c>TIME</c>, on the node that holds the keys), never the calling instance's,
/// so instances whose clocks disagree still agree on leases, windows and when an answer ended. Callers pass durations,
/// never instants. TIME is allowed in scripts (Redis 5+ replicates a script's effects, not the script).
/// </summary>
internal static class RedisClock
{
    /// <summary>Lua, to put first in a script: <c>now</c>, Redis's time in Unix milliseconds.</summary>
    public const string Now = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        """;

    /// <summary>
    /// KEYS: a sorted set of entries that lapse (a lease index, a user's running answers or connections). ARGV: how long
    /// the entries last (ms), the set's TTL (ms), '1' to drop the entries that lapsed, '1' to extend only members still
    /// listed (a renewal: one whose end removed it meanwhile stays removed), then the members: each is listed until
    /// Redis's now + that long. The members are written before the lapsed are dropped, so a late renewal still extends
    /// its own entry.
    /// </summary>
    public const string ListUntil = Now + """
        for i = 5, #ARGV do
            if ARGV[4] == '1' then
                redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])
            else
                redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i])
            end
        end
        if ARGV[3] == '1' then
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;
}
