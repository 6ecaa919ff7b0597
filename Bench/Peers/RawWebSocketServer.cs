using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using ChatStreaming.Bench.Load;
using StackExchange.Redis;

namespace ChatStreaming.Bench.Peers;

/// <summary>
/// The <c>raw-websocket</c> peer, the machine's floor: a Kestrel WebSocket endpoint and Redis pub/sub, nothing else.
/// <c>POST /start</c> runs a stream on this instance, which publishes each chunk (already JSON) on the stream's channel;
/// every instance with a watcher subscribes to it and writes the bytes as they came to its sockets, one frame per
/// chunk (a socket's first frame, "ready", says its instance is subscribed). No SignalR, no replay buffer, no persistence, no sequence checks.
/// <c>ChatStreaming.Bench peer --kind raw-websocket --urls … --redis …</c>.
/// </summary>
internal static class RawWebSocketServer
{
    public static async Task<int> RunAsync(string urls, string redis, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(redis);
        var app = builder.Build();
        app.UseWebSockets();
        var watchers = new ConcurrentDictionary<Guid, Lazy<Task<Watchers>>>();
        var running = new ConcurrentDictionary<Guid, Task>();
        var stopping = app.Lifetime.ApplicationStopping;

        app.MapGet("/health/ready", () => "ok");
        app.Map("/ws", async context =>
        {
            var streamId = Guid.Parse(context.Request.Query["stream"]!);
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var stream = await watchers.GetOrAdd(streamId, id => new(async () => new Watchers(await multiplexer.GetSubscriber().SubscribeAsync(Channel(id))))).Value;
            stream.Add(socket);
            await socket.SendAsync("ready"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, stopping); // subscribed: the client may start
            var buffer = new byte[64];
            try
            {
                while (socket.State == WebSocketState.Open && !(await socket.ReceiveAsync(buffer, stopping)).CloseStatus.HasValue)
                {
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
            finally
            {
                stream.Remove(socket);
            }
        });
        app.MapPost("/start", (Guid stream, int tokens, double tokensPerSecond) =>
        {
            var publisher = multiplexer.GetSubscriber();
            running.TryAdd(stream, PacedTokens.RunAsync(stream, tokens, tokensPerSecond, (i, delta, emittedAt) =>
                publisher.PublishAsync(Channel(stream), JsonSerializer.SerializeToUtf8Bytes(new RawChunk(i, delta, emittedAt))), stopping));
            return Results.Accepted();
        });
        await app.RunAsync(cancellationToken);
        await Task.WhenAll(running.Values);
        return 0;
    }

    private static RedisChannel Channel(Guid streamId) => RedisChannel.Literal($"peer-raw:{streamId:N}");

    /// <summary>One stream's sockets on this instance and its subscription (ordered: one frame written at a time).</summary>
    private sealed class Watchers
    {
        private WebSocket[] sockets = [];

        public Watchers(ChannelMessageQueue messages) => messages.OnMessage(async message =>
        {
            ReadOnlyMemory<byte> frame = (byte[])message.Message!;
            foreach (var socket in Volatile.Read(ref sockets))
            {
                try
                {
                    await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                }
                catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
                {
                }
            }
        });

        public void Add(WebSocket socket)
        {
            lock (this)
            {
                sockets = [.. sockets, socket];
            }
        }

        public void Remove(WebSocket socket)
        {
            lock (this)
            {
                sockets = [.. sockets.Where(s => s != socket)];
            }
        }
    }
}

/// <summary>A chunk as the raw-websocket and resumable-stream peers carry it: sequence, text, emitted at (Unix ms).</summary>
internal sealed record RawChunk(int Q, string D, double T);
