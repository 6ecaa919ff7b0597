using ChatStreaming.Worker.Streaming;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// Writes to a connection of this instance. The Redis lifetime manager writes a local connection's message straight
/// to it (no publish); the Worker only names connections it saw join here.
/// </summary>
internal sealed class HubLocalConnections(IHubContext<ChatHub> hub) : ILocalConnections
{
    public Task SendAsync(string connectionId, string method, object argument) =>
        hub.Clients.Client(connectionId).SendCoreAsync(method, [argument]);
}
