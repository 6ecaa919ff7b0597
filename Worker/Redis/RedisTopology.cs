using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>
/// Whether the configured Redis is a cluster, and what follows from it: a conversation's events travel on sharded
/// pub/sub there (<c>SPUBLISH</c>/<c>SSUBSCRIBE</c>: a message goes to the one shard that owns the channel's slot, the
/// slot of the conversation's keys), on plain pub/sub on a single node.
/// </summary>
internal sealed class RedisTopology(IConnectionMultiplexer redis)
{
    private readonly Lazy<bool> isCluster = new(() => redis.GetServers().Any(s => s.ServerType == ServerType.Cluster));

    /// <summary>True when <c>ConnectionStrings:Redis</c> names a Redis Cluster (StackExchange.Redis found its topology).</summary>
    public bool IsCluster => isCluster.Value;

    /// <summary>A conversation's event channel (<see cref="RedisKeys.ConversationEvents"/>), sharded on a cluster.</summary>
    public RedisChannel ConversationEvents(Guid conversationId)
    {
        var channel = RedisKeys.ConversationEvents(conversationId);
        return IsCluster ? RedisChannel.Sharded(channel.ToString()) : channel;
    }

    /// <summary>The publish command a script uses for a conversation's events.</summary>
    public string PublishCommand => IsCluster ? "SPUBLISH" : "PUBLISH";
}
