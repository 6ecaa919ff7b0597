namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// This instance's client connections (the hub implements it): a write to one of them goes straight to its socket,
/// never through Redis. A connection that has gone is skipped.
/// </summary>
public interface ILocalConnections
{
    /// <summary>
    /// Writes the message to the connection. Completes synchronously when the connection's buffer takes it at once
    /// (the usual case); a pending result means the client is not reading fast enough.
    /// </summary>
    ValueTask SendAsync(string connectionId, OutboundMessage message);
}
