using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Streaming;

namespace ChatStreaming.Worker.Facade;

/// <summary>
/// The hub's connections as the Worker sees them: counted per user across instances (Chat:MaxConnectionsPerUser), and
/// members of the conversations whose events they receive. Redis failures are thrown (the hub decides what they mean).
/// </summary>
public sealed class Connections
{
    private readonly UserConnections counted;
    private readonly ConversationSubscriptions subscriptions;
    private readonly Outboxes outboxes;

    internal Connections(UserConnections counted, ConversationSubscriptions subscriptions, Outboxes outboxes)
    {
        this.outboxes = outboxes;
        this.counted = counted;
        this.subscriptions = subscriptions;
    }

    /// <summary>
    /// Opens the connection's outbox (what it is sent never waits for its socket; <paramref name="acceptsChunkBatches"/>:
    /// it handles ReceiveChunks; <paramref name="abort"/> closes it if it falls behind), then counts it; false when its
    /// user already has the most allowed (it must be closed). A Redis failure is thrown after the outbox is open.
    /// </summary>
    public Task<bool> OpenAsync(string userId, string connectionId, bool acceptsChunkBatches, Action abort)
    {
        outboxes.Open(connectionId, acceptsChunkBatches, abort);
        return counted.TryOpenAsync(userId, connectionId);
    }

    public Task CloseAsync(string connectionId)
    {
        outboxes.Close(connectionId);
        return counted.CloseAsync(connectionId);
    }

    /// <summary>The connection receives the conversation's events from now on (live once this returns), on every instance.</summary>
    public Task JoinAsync(Guid conversationId, string connectionId) => subscriptions.JoinAsync(conversationId, connectionId);

    public Task LeaveAsync(Guid conversationId, string connectionId) => subscriptions.LeaveAsync(conversationId, connectionId);
}
