using ChatStreaming.Worker.Streaming;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// Writes to a connection of this instance, straight into its SignalR connection (no backplane, no publish). One
/// <see cref="OutboundMessage"/> is serialized once per protocol (JSON, MessagePack) however many members it goes to.
/// </summary>
internal sealed class HubLocalConnections(LocalConnectionsLifetimeManager lifetime) : ILocalConnections
{
    public ValueTask SendAsync(string connectionId, OutboundMessage message) =>
        lifetime.TryGet(connectionId, out var connection)
            ? connection.WriteAsync(message.Serialized(Serialize))
            : ValueTask.CompletedTask;

    private static SerializedHubMessage Serialize(OutboundMessage message) =>
        new(new InvocationMessage(message.Method, [message.Argument]));
}
