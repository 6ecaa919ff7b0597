namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// This instance's client connections (the hub implements it): a write to one of them goes straight to its socket,
/// never through Redis. A connection that has gone is skipped.
/// </summary>
public interface ILocalConnections
{
    Task SendAsync(string connectionId, string method, object argument);
}
