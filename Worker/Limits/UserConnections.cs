using System.Collections.Concurrent;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Limits;

/// <summary>
/// How many connections each user has open, all instances together (<c>Chat:MaxConnectionsPerUser</c>): a sorted set
/// per user in Redis, member = connection id, score = when its entry lapses unless renewed. This instance renews its
/// own connections' entries every third of a lease (<see cref="UserConnectionsRenewer"/>), so those of an instance that
/// died stop counting within two leases. The renewal writes every entry of this instance, present or not: a connection
/// opened while Redis was away, and every connection after a Redis restart lost the sets, count again within a third
/// of a lease.
/// </summary>
internal sealed class UserConnections(IConnectionMultiplexer redis, IOptions<ChatStreamingOptions> options)
{
    // KEYS: the user's connections. ARGV: limit (0 = none), connection id, entry lifetime ms, key TTL ms. Times are
    // Redis's (RedisClock), whichever instance calls.
    private const string OpenScript = RedisClock.Now + """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if tonumber(ARGV[1]) > 0 and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
            return 0
        end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return 1
        """;

    // Invariant: the connections of this instance that are counted in Redis, connection id → user id.
    private readonly ConcurrentDictionary<string, string> local = new();

    private TimeSpan EntryLifetime => 2 * options.Value.GenerationLease;

    /// <summary>Counts the connection; false when the user already has the most allowed (it must be closed).</summary>
    public async Task<bool> TryOpenAsync(string userId, string connectionId)
    {
        bool opened;
        try
        {
            opened = (int)await redis.GetDatabase().ScriptEvaluateAsync(
                OpenScript,
                [RedisKeys.UserConnections(userId)],
                [options.Value.MaxConnectionsPerUser, connectionId, (long)EntryLifetime.TotalMilliseconds, (long)EntryLifetime.TotalMilliseconds]) == 1;
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            local[connectionId] = userId; // served without Redis: counted by the next renewal that reaches it
            throw;
        }

        if (opened)
        {
            local[connectionId] = userId;
        }

        return opened;
    }

    public async Task CloseAsync(string connectionId)
    {
        if (local.TryRemove(connectionId, out var userId))
        {
            await redis.GetDatabase().SortedSetRemoveAsync(RedisKeys.UserConnections(userId), connectionId);
        }
    }

    /// <summary>Writes (extends, or writes again) the entries of this instance's open connections.</summary>
    public Task RenewAsync() => RenewAsync([.. local]);

    /// <summary>
    /// Writes the entries of <paramref name="open"/> (connection id → user id, read from the connections open here). One
    /// closed meanwhile is removed again afterwards: its close may have reached Redis before this renewal did.
    /// </summary>
    internal async Task RenewAsync(KeyValuePair<string, string>[] open)
    {
        var lifetime = (long)EntryLifetime.TotalMilliseconds;
        var batch = redis.GetDatabase().CreateBatch();
        var renewals = open.GroupBy(c => c.Value).Select(user => batch.ScriptEvaluateAsync(
            RedisClock.ListUntil, [RedisKeys.UserConnections(user.Key)], [lifetime, lifetime, "0", "0", .. user.Select(c => (RedisValue)c.Key)])).ToList();
        batch.Execute();
        await Task.WhenAll(renewals);

        var db = redis.GetDatabase();
        await Task.WhenAll(open.Where(c => !local.ContainsKey(c.Key)).Select(c => db.SortedSetRemoveAsync(RedisKeys.UserConnections(c.Value), c.Key)));
    }
}
