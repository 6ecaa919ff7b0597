using System.Collections.Concurrent;
using ChatStreaming.Worker.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// The outboxes of this instance's connections (<see cref="Outbox"/>): opened when a connection arrives, completed when
/// it leaves. Posting never waits: an event is written into (or queued for) each member's buffer and the call returns.
/// On stop, what is queued is written (within the host's shutdown).
/// </summary>
internal sealed class Outboxes(
    ILocalConnections connections,
    IOptions<ChatStreamingOptions> options,
    WorkerMetrics metrics,
    ILogger<Outboxes> logger) : IHostedService
{
    // Invariant: every open connection of this instance has exactly one outbox here.
    private readonly ConcurrentDictionary<string, Outbox> outboxes = new();

    /// <summary>
    /// Opens the connection's outbox. <paramref name="acceptsBatches"/>: it handles <c>ReceiveChunks</c>;
    /// <paramref name="abort"/> closes the connection (called at most once, when it is too slow).
    /// </summary>
    public void Open(string connectionId, bool acceptsBatches, Action abort)
    {
        var o = options.Value;
        var outbox = new Outbox(connectionId, acceptsBatches, o.MaxQueuedEventsPerConnection, o.SlowClientTimeout, connections, (closed, reason) =>
        {
            WorkerLog.SlowClientClosed(logger, closed.ConnectionId, reason);
            metrics.SlowClientClosed();
            abort();
        }, logger);
        outboxes.TryAdd(connectionId, outbox);
    }

    /// <summary>The connection left: what is queued for it is dropped with it.</summary>
    public void Close(string connectionId)
    {
        if (outboxes.TryRemove(connectionId, out var outbox))
        {
            outbox.Complete();
        }
    }

    /// <summary>
    /// Writes the event to each of <paramref name="members"/> (serialized once for all of them); a member whose queue is
    /// full is closed as too slow.
    /// </summary>
    public void Post(string[] members, string method, object argument)
    {
        var message = new OutboundMessage(method, argument);
        foreach (var connectionId in members)
        {
            if (outboxes.TryGetValue(connectionId, out var outbox) && !outbox.TryPost(message))
            {
                outbox.Close($"slow client: more than Chat:MaxQueuedEventsPerConnection ({options.Value.MaxQueuedEventsPerConnection}) events waiting");
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Lets every outbox write what is queued, until the host's shutdown timeout.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var outbox in outboxes.Values)
        {
            outbox.Complete();
        }

        await Task.WhenAll(outboxes.Values.Select(o => o.Drained)).WaitAsync(cancellationToken);
    }
}
