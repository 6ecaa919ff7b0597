using System.Collections.Concurrent;
using ChatStreaming.Bench.Load;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace ChatStreaming.Bench.Peers;

/// <summary>
/// The <c>signalr-group</c> peer: what a .NET team writes from the SignalR docs. The stock Redis backplane; the model's
/// stream runs on the instance that was asked; each chunk is an <c>XADD</c> (so a client could resume from the stream)
/// and then <c>Clients.Group(stream).SendAsync</c>, which the backplane publishes to every instance.
/// <c>ChatStreaming.Bench peer --kind signalr-group --urls … --redis …</c>.
/// </summary>
internal static class SignalRGroupServer
{
    public static async Task<int> RunAsync(string urls, string redis, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis);
        builder.Services.AddSingleton<IConnectionMultiplexer>(multiplexer);
        builder.Services.AddSignalR().AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = RedisChannel.Literal("peer-group"));
        builder.Services.AddSingleton<GroupProducer>();
        var app = builder.Build();
        app.MapHub<GroupHub>("/hubs/chat");
        app.MapGet("/health/ready", () => "ok");
        await app.RunAsync(cancellationToken);
        await app.Services.GetRequiredService<GroupProducer>().DrainAsync();
        return 0;
    }

    /// <summary>Watch joins the stream's group; Start runs the stream here.</summary>
    internal sealed class GroupHub(GroupProducer producer) : Hub
    {
        public Task Watch(Guid streamId) => Groups.AddToGroupAsync(Context.ConnectionId, streamId.ToString("N"));

        public void Start(Guid streamId, int tokens, double tokensPerSecond) => producer.Start(streamId, tokens, tokensPerSecond);
    }

    internal sealed class GroupProducer(IHubContext<GroupHub> hub, IConnectionMultiplexer redis, IHostApplicationLifetime lifetime)
    {
        private readonly ConcurrentDictionary<Guid, Task> running = new();

        public void Start(Guid streamId, int tokens, double tokensPerSecond) =>
            running.TryAdd(streamId, RunAsync(streamId, tokens, tokensPerSecond, lifetime.ApplicationStopping));

        public Task DrainAsync() => Task.WhenAll(running.Values);

        private async Task RunAsync(Guid streamId, int tokens, double tokensPerSecond, CancellationToken stopping)
        {
            var db = redis.GetDatabase();
            var key = (RedisKey)$"peer-group:stream:{streamId:N}";
            var group = hub.Clients.Group(streamId.ToString("N"));
            await PacedTokens.RunAsync(streamId, tokens, tokensPerSecond, async (i, delta, emittedAt) =>
            {
                await db.StreamAddAsync(key, [new("q", i), new("d", delta), new("t", emittedAt)]);
                await group.SendAsync(ChatHubMethods.ReceiveChunk, new Chunk(streamId, streamId, i, delta, emittedAt), stopping);
            }, stopping);
            await db.KeyExpireAsync(key, TimeSpan.FromMinutes(1));
            running.TryRemove(streamId, out _);
        }
    }
}
