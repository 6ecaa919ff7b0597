using System.Globalization;
using StackExchange.Redis;

namespace ChatStreaming.Bench.Load;

/// <summary>
/// What one node of a Redis Cluster did during a run: its CPU, the scripts it ran (the append of a chunk is one), the
/// publishes it executed (sharded and plain, counted by <c>INFO commandstats</c>, which includes commands run by
/// scripts), and the pub/sub messages it received from other nodes over the cluster bus (<c>CLUSTER INFO</c>): a plain
/// <c>PUBLISH</c> on a cluster is forwarded to every node, a sharded one only to its shard's replicas.
/// </summary>
internal sealed record RedisNodeStats(
    string EndPoint, string Role, double CpuSeconds, long Scripts, long ShardedPublishes, long Publishes, long BusPublishesReceived, long BusShardedPublishesReceived)
{
    public RedisNodeStats Minus(RedisNodeStats before) => this with
    {
        CpuSeconds = CpuSeconds - before.CpuSeconds,
        Scripts = Scripts - before.Scripts,
        ShardedPublishes = ShardedPublishes - before.ShardedPublishes,
        Publishes = Publishes - before.Publishes,
        BusPublishesReceived = BusPublishesReceived - before.BusPublishesReceived,
        BusShardedPublishesReceived = BusShardedPublishesReceived - before.BusShardedPublishesReceived,
    };
}

/// <summary>Reads every node of a Redis Cluster (<see cref="RedisNodeStats"/>), its CPU from /proc.</summary>
internal sealed class RedisNodesProbe(IConnectionMultiplexer cluster)
{
    public async Task<IReadOnlyList<RedisNodeStats>> ReadAsync()
    {
        var nodes = new List<RedisNodeStats>();
        foreach (var server in cluster.GetServers().Where(s => s.IsConnected).OrderBy(s => s.EndPoint.ToString(), StringComparer.Ordinal))
        {
            var info = (await server.InfoAsync("everything")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
            var bus = ((string)(await server.ExecuteAsync("CLUSTER", "INFO"))!).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(':', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
            nodes.Add(new RedisNodeStats(
                server.EndPoint.ToString()!,
                info.GetValueOrDefault("role") == "master" ? "master" : "replica",
                SystemProbe.CpuSeconds(int.Parse(info["process_id"], CultureInfo.InvariantCulture)),
                Calls(info, "evalsha") + Calls(info, "eval"),
                Calls(info, "spublish"),
                Calls(info, "publish"),
                Number(bus, "cluster_stats_messages_publish_received"),
                Number(bus, "cluster_stats_messages_publishshard_received")));
        }

        return nodes;
    }

    /// <summary>Each node's figures between two reads (nodes matched by address).</summary>
    public static IReadOnlyList<RedisNodeStats> Between(IReadOnlyList<RedisNodeStats> before, IReadOnlyList<RedisNodeStats> after) =>
        [.. after.Select(a => before.FirstOrDefault(b => b.EndPoint == a.EndPoint) is { } b ? a.Minus(b) : a)];

    /// <summary>used_memory summed over the masters.</summary>
    public async Task<long> UsedMemoryAsync()
    {
        long total = 0;
        foreach (var server in cluster.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            var info = (await server.InfoAsync("memory")).SelectMany(g => g);
            total += long.Parse(info.First(p => p.Key == "used_memory").Value, CultureInfo.InvariantCulture);
        }

        return total;
    }

    private static long Calls(Dictionary<string, string> info, string command) =>
        info.TryGetValue($"cmdstat_{command}", out var stat)
            ? long.Parse(stat.Split(',').First(f => f.StartsWith("calls=", StringComparison.Ordinal))[6..], CultureInfo.InvariantCulture)
            : 0;

    private static long Number(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var value) ? long.Parse(value, CultureInfo.InvariantCulture) : 0;
}
