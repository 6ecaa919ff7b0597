using ChatStreaming.Contracts;
using ChatStreaming.Server.Telemetry;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Server.Chat;

internal static class ChatHubExtensions
{
    /// <summary>Maximum size of one incoming hub message; a chat message is at most Chat:MaxMessageCharacters.</summary>
    private const long MaxReceiveMessageBytes = 256 * 1024;

    /// <summary>
    /// The SignalR hub scaled out over the Redis backplane, and what the Worker needs of it (this instance's connections).
    /// A conversation's events do not use the backplane: the Worker publishes and delivers them (the Worker).
    /// </summary>
    public static IHostApplicationBuilder AddChatHub(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSignalR(o =>
            {
                o.EnableDetailedErrors = false; // clients get HubException messages, never stack traces
                o.AddFilter<UnexpectedHubErrorFilter>(); // outermost: sees every failure that is not a refusal
                o.AddFilter<RedisUnavailableFilter>(); // before the limit: a Redis failure there is "unavailable" too
                o.AddFilter<UserCallLimitFilter>();
                o.MaximumReceiveMessageSize = MaxReceiveMessageBytes;
                // Stated, though they are SignalR's defaults (docs/protocol.md, "Delivery never waits for a client"):
                // one call at a time per connection (the hub's per-connection groups rely on it); a client silent for
                // 30 s is dropped; a stateful-reconnect client may leave 100 kB unacknowledged, past which its writes
                // wait and Chat:SlowClientTimeout closes it (nothing else waits: each connection has its own outbox).
                o.MaximumParallelInvocationsPerClient = 1;
                o.ClientTimeoutInterval = TimeSpan.FromSeconds(30);
                o.StatefulReconnectBufferSize = 100_000;
            })
            .AddMessagePackProtocol(o => o.SerializerOptions = ChatMessagePack.Options) // beside JSON: a client picks it at connect (docs/protocol.md, "Protocols")
            .AddStackExchangeRedis();
        services.AddOptions<RedisOptions>()
            .Configure<IOptions<RedisConnectionOptions>>((backplane, redis) =>
            {
                backplane.Configuration = WorkerExtensions.RedisConfiguration(redis.Value);
                backplane.Configuration.ChannelPrefix = RedisChannel.Literal(RedisKeys.BackplanePrefix);
            });
        // The backplane's manager, wrapped so the Worker's events reach a local connection directly, serialized once.
        services.AddSingleton(sp => new LocalConnectionsLifetimeManager(ActivatorUtilities.CreateInstance<RedisHubLifetimeManager<ChatHub>>(sp)));
        services.AddSingleton<HubLifetimeManager<ChatHub>>(sp => sp.GetRequiredService<LocalConnectionsLifetimeManager>());
        services.AddSingleton<ILocalConnections, HubLocalConnections>();
        services.AddSingleton<LocalCallLimits>();
        return builder;
    }

    /// <summary>The hub at <see cref="ChatHubPaths.Hub"/>.</summary>
    public static WebApplication MapChatHub(this WebApplication app)
    {
        app.MapHub<ChatHub>(ChatHubPaths.Hub, o =>
        {
            o.AllowStatefulReconnects = true;
            o.CloseOnAuthenticationExpiration = true;
        });
        return app;
    }
}
