using System.Threading.Channels;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Diagnostics;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// One local connection's outbound events and the loop that writes them, so that nothing upstream (the generator, the
/// Redis subscription, other connections) ever waits for this connection's socket.
/// Invariants: events reach the connection in the order they were posted (one queue, one writer). When the connection
/// said it takes batches, consecutive chunks waiting together go out as one <see cref="ChatHubMethods.ReceiveChunks"/>
/// frame; a non-chunk event is never moved across a chunk. A connection that lets its queue fill, or whose write
/// waits longer than Chat:SlowClientTimeout, is closed (<see cref="Closed"/> says why): its client reconnects and
/// catches up from the replay buffer.
/// </summary>
internal sealed class Outbox
{
    /// <summary>Most chunks in one <see cref="ChatHubMethods.ReceiveChunks"/> frame.</summary>
    public const int MaxBatch = 256;

    /// <summary>A frame takes no more chunks once their text reaches this many characters (a bound on one frame's size).</summary>
    public const int MaxBatchCharacters = 32 * 1024;

    private readonly Channel<(string Method, object Argument)> queue;
    private readonly string connectionId;
    private readonly bool acceptsBatches;
    private readonly ILocalConnections connections;
    private readonly TimeSpan slowClientTimeout;
    private readonly Action<Outbox, string> close;
    private readonly ILogger logger;

    public Outbox(string connectionId, bool acceptsBatches, int capacity, TimeSpan slowClientTimeout, ILocalConnections connections, Action<Outbox, string> close, ILogger logger)
    {
        this.logger = logger;
        this.connectionId = connectionId;
        this.acceptsBatches = acceptsBatches;
        this.connections = connections;
        this.slowClientTimeout = slowClientTimeout;
        this.close = close;
        // Full mode: refused (TryWrite false), never waited on; the poster closes the connection instead.
        queue = Channel.CreateBounded<(string, object)>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    public string ConnectionId => connectionId;

    private string? closed;

    /// <summary>Why this outbox closed its connection (null while it has not).</summary>
    public string? Closed => Volatile.Read(ref closed);

    /// <summary>Queues the event without waiting; false when the queue is full (the caller closes the connection).</summary>
    public bool TryPost(string method, object argument) => queue.Writer.TryWrite((method, argument));

    /// <summary>No more events: what is queued is still written.</summary>
    public void Complete() => queue.Writer.TryComplete();

    /// <summary>Stops writing and closes the connection, saying why.</summary>
    public void Close(string reason)
    {
        // Once only: a poster (full queue) and the writer loop (timeout) may both decide it at the same time.
        if (Interlocked.CompareExchange(ref closed, reason, null) is null)
        {
            queue.Writer.TryComplete();
            close(this, reason);
        }
    }

    /// <summary>The writer loop (<see cref="Outboxes"/> runs and tracks it): ends once the outbox is completed and drained, or closed.</summary>
    public async Task WriteAsync()
    {
        await Task.Yield(); // the loop runs beside its starter, never inside its call
        var batch = new List<Chunk>(MaxBatch);
        var reader = queue.Reader;
        while (Closed is null && await reader.WaitToReadAsync())
        {
            while (Closed is null && reader.TryRead(out var next))
            {
                bool written;
                if (acceptsBatches && next.Argument is Chunk first && reader.TryPeek(out var waiting) && waiting.Argument is Chunk)
                {
                    batch.Add(first);
                    var characters = Size(first);
                    while (batch.Count < MaxBatch && characters < MaxBatchCharacters
                        && reader.TryPeek(out waiting) && waiting.Argument is Chunk && reader.TryRead(out waiting))
                    {
                        var chunk = (Chunk)waiting.Argument;
                        batch.Add(chunk);
                        characters += Size(chunk);
                    }

                    written = await SendAsync(ChatHubMethods.ReceiveChunks, batch.ToArray());
                    batch.Clear();
                }
                else
                {
                    written = await SendAsync(next.Method, next.Argument);
                }

                if (!written)
                {
                    return;
                }
            }
        }
    }

    private static int Size(Chunk chunk) => chunk.Delta.Length + (chunk.Part?.Length ?? 0);

    /// <summary>False when the connection was closed as too slow.</summary>
    private async Task<bool> SendAsync(string method, object argument)
    {
        try
        {
            await connections.SendAsync(connectionId, method, argument).WaitAsync(slowClientTimeout);
            return true;
        }
        catch (TimeoutException)
        {
            Close($"slow client: a write waited longer than Chat:SlowClientTimeout ({slowClientTimeout.TotalSeconds:0.#} s)");
            return false;
        }
        catch (Exception ex) when (Closed is null)
        {
            WorkerLog.LocalDeliveryFailed(logger, ex, method); // the connection is closing: its events are dropped, as SignalR drops them
            return true;
        }
    }
}
