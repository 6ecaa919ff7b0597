using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ChatStreaming.Client.Core;

/// <summary>The hub protocols the server offers (docs/protocol.md, "Protocols").</summary>
public enum ChatHubProtocol
{
    /// <summary>SignalR's JSON protocol (camelCase fields): what every client gets unless it asks otherwise.</summary>
    Json,

    /// <summary>
    /// SignalR's MessagePack protocol: binary frames, smaller and cheaper to decode; each argument the same document as
    /// on JSON (<see cref="ChatMessagePack"/>).
    /// </summary>
    MessagePack,
}

/// <summary>Picks the hub protocol on a connection builder.</summary>
public static class ChatHubProtocolExtensions
{
    public static IHubConnectionBuilder WithProtocol(this IHubConnectionBuilder builder, ChatHubProtocol protocol) =>
        protocol == ChatHubProtocol.MessagePack ? builder.AddMessagePackProtocol(o => o.SerializerOptions = ChatMessagePack.Options) : builder;
}
