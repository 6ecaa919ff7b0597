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

    internal Connections(UserConnections counted, ConversationSubscriptions subscriptions)
    {
        this.counted = counted;
        this.subscriptions = subscriptions;
    }

    /// <summary>Counts the connection; false when its user already has the most allowed (it must be closed).</summary>
    public Task<bool> OpenAsync(string userId, string connectionId) => counted.TryOpenAsync(userId, connectionId);

    public Task CloseAsync(string connectionId) => counted.CloseAsync(connectionId);

    /// <summary>The connection receives the conversation's events from now on (live once this returns), on every instance.</summary>
    public Task JoinAsync(Guid conversationId, string connectionId) => subscriptions.JoinAsync(conversationId, connectionId);

    public Task LeaveAsync(Guid conversationId, string connectionId) => subscriptions.LeaveAsync(conversationId, connectionId);
}
