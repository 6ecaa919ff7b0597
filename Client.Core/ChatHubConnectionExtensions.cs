using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Client.Core;

/// <summary>
/// The typed way to call the hub: <c>connection.AsChatHub().JoinConversation(id)</c> instead of a method name string.
/// Not named HubConnectionExtensions: SignalR's own class of that name is in scope wherever this one is.
/// </summary>
public static class ChatHubConnectionExtensions
{
    /// <summary>A <see cref="ChatHubProxy"/> over the connection; cheap, so take one per call or per cancellation token.</summary>
    /// <param name="cancellationToken">Given to every call made through the proxy (see <see cref="ChatHubProxy"/>).</param>
    public static IChatHub AsChatHub(this HubConnection connection, CancellationToken cancellationToken = default) =>
        new ChatHubProxy(connection, cancellationToken);
}
