using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>
/// Whether the configured Redis is a cluster, and what follows from it: a conversation's events travel on sharded
/// pub/sub there (<c>SPUBLISH</c>/<c>SSUBSCRIBE</c>: a message goes to the one shard that owns the channel's slot, the
/// slot of the conversation's keys), on plain pub/sub on a single node.
/// </summary>
public sealed class RedisTopology(IConnectionMultiplexer redis)
{
    private volatile int known; // 0 not yet known (no server connected so far), 1 single node, 2 cluster

    /// <summary>
    /// True when <c>ConnectionStrings:Redis</c> names a Redis Cluster (StackExchange.Redis found its topology). Decided
    /// once a server has answered; until then (Redis not reachable yet) false.
    /// </summary>
    public bool IsCluster
    {
        get
        {
            if (known == 0)
            {
                var connected = redis.GetServers().Where(s => s.IsConnected).ToArray();
                if (connected.Length > 0)
                {
                    known = connected.Any(s => s.ServerType == ServerType.Cluster) ? 2 : 1;
                }
            }

            return known == 2;
        }
    }

    /// <summary>A conversation's event channel (<see cref="RedisKeys.ConversationEvents"/>), sharded on a cluster.</summary>
    public RedisChannel ConversationEvents(Guid conversationId)
    {
        var channel = RedisKeys.ConversationEvents(conversationId);
        return IsCluster ? RedisChannel.Sharded(channel.ToString()) : channel;
    }
}
