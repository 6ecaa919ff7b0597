using System.Collections.Concurrent;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Redis;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// Which of this instance's connections are in which conversation, and the Redis subscription that brings each such
/// conversation's events from the other instances (one per conversation with a member here, dropped with its last member).
/// Events this instance published itself are skipped on arrival: <see cref="ConversationBroadcaster"/> already wrote
/// them to the local members, without the round trip.
/// Invariants: <see cref="JoinAsync"/> returns once the subscription is live, so what is published afterwards reaches
/// the connection; one conversation has at most one subscription here, so nothing is delivered twice by this instance;
/// a conversation's events reach a connection's outbox in the order they were published (one queue per conversation,
/// read in order), and its outbox writes them in that order.
/// </summary>
internal sealed class ConversationSubscriptions(
    IConnectionMultiplexer redis,
    RedisTopology topology,
    InstanceIdentity instance,
    Outboxes outboxes,
    WorkerMetrics metrics,
    TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<Guid, Room> rooms = new();

    /// <summary>Adds the connection; subscribes first if it is the conversation's first member here. Throws if Redis is away.</summary>
    public async Task JoinAsync(Guid conversationId, string connectionId)
    {
        while (true)
        {
            var room = rooms.GetOrAdd(conversationId, _ => new Room());
            await room.Gate.WaitAsync();
            try
            {
                if (room.Closed)
                {
                    continue; // its last member left meanwhile: a new room takes its place
                }

                if (room.Events is null)
                {
                    try
                    {
                        room.Events = await redis.GetSubscriber().SubscribeAsync(topology.ConversationEvents(conversationId));
                    }
                    catch when (room.Members.Length == 0)
                    {
                        room.Closed = true; // no member and no subscription: nothing to keep
                        rooms.TryRemove(new KeyValuePair<Guid, Room>(conversationId, room));
                        throw;
                    }

                    room.Events.OnMessage(message => Deliver(conversationId, room, message.Message));
                }

                if (!room.Members.Contains(connectionId))
                {
                    room.Members = [.. room.Members, connectionId];
                }

                return;
            }
            finally
            {
                room.Gate.Release();
            }
        }
    }

    /// <summary>Removes the connection; unsubscribes with the conversation's last member here.</summary>
    public async Task LeaveAsync(Guid conversationId, string connectionId)
    {
        if (!rooms.TryGetValue(conversationId, out var room))
        {
            return;
        }

        await room.Gate.WaitAsync();
        try
        {
            room.Members = [.. room.Members.Where(m => m != connectionId)];
            if (room.Members.Length > 0 || room.Closed)
            {
                return;
            }

            room.Closed = true;
            rooms.TryRemove(new KeyValuePair<Guid, Room>(conversationId, room));
            if (room.Events is { } events)
            {
                try
                {
                    await events.UnsubscribeAsync();
                }
                catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
                {
                    // Redis away: the subscription is gone here all the same (it is not restored on reconnect)
                }
            }
        }
        finally
        {
            room.Gate.Release();
        }
    }

    /// <summary>
    /// Queues the event for this instance's members of the conversation (<see cref="Outboxes"/>): returns at once, whatever
    /// their sockets do.
    /// </summary>
    public void SendToMembers(Guid conversationId, string method, object argument)
    {
        if (rooms.TryGetValue(conversationId, out var room))
        {
            outboxes.Post(room.Members, method, argument);
        }
    }

    private void Deliver(Guid conversationId, Room room, RedisValue message)
    {
        var payload = (ReadOnlyMemory<byte>)message;
        if (ConversationEvent.OriginOf(payload.Span) == instance.Value)
        {
            return; // published here: the local members have it already
        }

        if (ConversationEvent.Decode(conversationId, payload.Span) is not { } received)
        {
            return;
        }

        if (received.Argument is Chunk chunk)
        {
            metrics.ChunkReceived(timeProvider.UnixMilliseconds() - chunk.EmittedAt);
        }

        outboxes.Post(room.Members, received.Method, received.Argument);
    }

    private sealed class Room
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Copied on every change, so delivery reads it without a lock.</summary>
        public string[] Members { get; set; } = [];

        public ChannelMessageQueue? Events { get; set; }

        public bool Closed { get; set; }
    }
}
