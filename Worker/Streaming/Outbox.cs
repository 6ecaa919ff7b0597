using ChatStreaming.Contracts;
using ChatStreaming.Worker.Diagnostics;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// One local connection's outbound events, so that nothing upstream (the generator, the Redis subscription, other
/// connections) ever waits for this connection's socket.
/// Invariants: events reach the connection in the order they were posted. While the connection keeps up, a post
/// writes straight into its buffer on the poster's thread (no queue, no thread hop); once a write is pending, later
/// posts queue (at most Chat:MaxQueuedEventsPerConnection) and one drain loop writes them after it. When the
/// connection said it takes batches, consecutive chunks waiting together go out as one
/// <see cref="ChatHubMethods.ReceiveChunks"/> frame; a non-chunk event is never moved across a chunk. A connection that
/// lets its queue fill, or whose write waits longer than Chat:SlowClientTimeout, is closed (<see cref="Closed"/> says
/// why): its client reconnects and catches up from the replay buffer.
/// </summary>
internal sealed class Outbox
{
    /// <summary>Most chunks in one <see cref="ChatHubMethods.ReceiveChunks"/> frame.</summary>
    public const int MaxBatch = 256;

    /// <summary>A frame takes no more chunks once their text reaches this many characters (a bound on one frame's size).</summary>
    public const int MaxBatchCharacters = 32 * 1024;

    private readonly object gate = new();
    private readonly Queue<OutboundMessage> waiting = new();
    private readonly string connectionId;
    private readonly bool acceptsBatches;
    private readonly int capacity;
    private readonly ILocalConnections connections;
    private readonly TimeSpan slowClientTimeout;
    private readonly Action<Outbox, string> close;
    private readonly ILogger logger;

    // Guarded by gate: the drain loop while a write is pending or events wait (null when the connection keeps up);
    // completed once nothing more may be posted.
    private Task? draining;
    private bool completed;
    private string? closed;

    public Outbox(string connectionId, bool acceptsBatches, int capacity, TimeSpan slowClientTimeout, ILocalConnections connections, Action<Outbox, string> close, ILogger logger)
    {
        this.logger = logger;
        this.connectionId = connectionId;
        this.acceptsBatches = acceptsBatches;
        this.capacity = capacity;
        this.connections = connections;
        this.slowClientTimeout = slowClientTimeout;
        this.close = close;
    }

    public string ConnectionId => connectionId;

    /// <summary>Why this outbox closed its connection (null while it has not).</summary>
    public string? Closed => Volatile.Read(ref closed);

    /// <summary>Completes when nothing is pending or waiting (what <see cref="Outboxes"/> waits for on stop).</summary>
    public Task Drained
    {
        get
        {
            lock (gate)
            {
                return draining ?? Task.CompletedTask;
            }
        }
    }

    /// <summary>
    /// Writes or queues the event without waiting; false when the queue is full (the caller closes the connection).
    /// After <see cref="Complete"/> the event is dropped (true): the connection is going; after <see cref="Close"/> it is
    /// dropped too, and false says the connection was closed as too slow (closing it again does nothing).
    /// </summary>
    public bool TryPost(OutboundMessage message)
    {
        lock (gate)
        {
            if (completed)
            {
                return closed is null;
            }

            if (draining is not null)
            {
                if (waiting.Count >= capacity)
                {
                    return false;
                }

                waiting.Enqueue(message);
                return true;
            }

            var write = Send(message);
            if (!write.IsCompleted)
            {
                draining = DrainAsync(write.AsTask());
                return true;
            }

            try
            {
                write.GetAwaiter().GetResult(); // consumed once, as a ValueTask must be
            }
            catch (Exception ex)
            {
                WorkerLog.LocalDeliveryFailed(logger, ex, message.Method); // the connection is closing: dropped, as SignalR drops it
            }

            return true;
        }
    }

    /// <summary>No more events: what is queued is still written.</summary>
    public void Complete()
    {
        lock (gate)
        {
            completed = true;
        }
    }

    /// <summary>Stops writing, drops what waits and closes the connection, saying why.</summary>
    public void Close(string reason)
    {
        // Once only: a poster (full queue) and the drain loop (timeout) may both decide it at the same time.
        lock (gate)
        {
            if (closed is not null)
            {
                return;
            }

            Volatile.Write(ref closed, reason);
            completed = true;
            waiting.Clear();
        }

        close(this, reason);
    }

    private ValueTask Send(OutboundMessage message)
    {
        try
        {
            return connections.SendAsync(connectionId, message);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    /// <summary>Waits for the pending write, then writes what queued meanwhile (batched), until nothing waits.</summary>
    private async Task DrainAsync(Task pending)
    {
        await Task.Yield(); // runs beside the poster (which holds the gate), never inside its call
        while (true)
        {
            if (!await WaitAsync(pending))
            {
                return;
            }

            OutboundMessage next;
            lock (gate)
            {
                if (closed is not null || waiting.Count == 0)
                {
                    draining = null;
                    return;
                }

                next = Take();
            }

            pending = Send(next).AsTask();
        }
    }

    /// <summary>The next frame: the oldest event, or (for a connection that takes batches) the consecutive chunks at the head.</summary>
    private OutboundMessage Take()
    {
        var first = waiting.Dequeue();
        if (!acceptsBatches || first.Argument is not Chunk chunk || !waiting.TryPeek(out var second) || second.Argument is not Chunk)
        {
            return first;
        }

        var batch = new List<Chunk>(Math.Min(MaxBatch, waiting.Count + 1)) { chunk };
        var characters = Size(chunk);
        while (batch.Count < MaxBatch && characters < MaxBatchCharacters && waiting.TryPeek(out var next) && next.Argument is Chunk more)
        {
            waiting.Dequeue();
            batch.Add(more);
            characters += Size(more);
        }

        return new OutboundMessage(ChatHubMethods.ReceiveChunks, batch.ToArray());
    }

    private static int Size(Chunk chunk) => chunk.Delta.Length + (chunk.Part?.Length ?? 0);

    /// <summary>False when the connection was closed as too slow.</summary>
    private async Task<bool> WaitAsync(Task write)
    {
        try
        {
            await write.WaitAsync(slowClientTimeout);
            return true;
        }
        catch (TimeoutException)
        {
            Close($"slow client: a write waited longer than Chat:SlowClientTimeout ({slowClientTimeout.TotalSeconds:0.#} s)");
        }
        catch (Exception ex)
        {
            if (Closed is null)
            {
                WorkerLog.LocalDeliveryFailed(logger, ex, "write"); // the connection is closing: its events are dropped, as SignalR drops them
                return true;
            }
        }

        lock (gate)
        {
            draining = null;
        }

        return false;
    }
}
