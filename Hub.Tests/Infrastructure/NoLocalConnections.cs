using ChatStreaming.Worker.Streaming;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>A <see cref="WorkerHost"/>'s connections when a test has none: every write goes nowhere.</summary>
internal sealed class NoLocalConnections : ILocalConnections
{
    public ValueTask SendAsync(string connectionId, OutboundMessage message) => ValueTask.CompletedTask;
}
