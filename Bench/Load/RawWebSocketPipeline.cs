using System.Net.WebSockets;
using System.Text.Json;
using ChatStreaming.Bench.Peers;

namespace ChatStreaming.Bench.Load;

/// <summary>
/// The <c>raw-websocket</c> peer, the machine's floor (<see cref="RawWebSocketServer"/>): a plain WebSocket per client,
/// chunks from Redis pub/sub written as frames. A socket on the producing instance and one on the other per stream.
/// </summary>
internal sealed class RawWebSocketPipeline(ServerPair servers, int tokens, double tokensPerSecond) : IPipeline
{
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public string Name => "raw-websocket";

    public IReadOnlyList<string> Urls => servers.Urls;

    public IReadOnlyList<int> ServerProcessIds => servers.ProcessIds;

    public static async Task<RawWebSocketPipeline> StartAsync(BenchSettings settings, int tokens, CancellationToken cancellationToken) =>
        new(await ServerPair.StartBenchPeerAsync("raw-websocket", settings.Redis, cancellationToken), tokens, settings.TokensPerSecond);

    public Task<IAsyncDisposable[]> ConnectAsync(int index, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable[]>([new Socket(Urls[index % 2]), new Socket(Urls[(index + 1) % 2])]);

    public async Task<Guid> StartStreamAsync(IAsyncDisposable[] connections, StreamResult result, CancellationToken cancellationToken)
    {
        var streamId = Guid.NewGuid();
        var (producer, watcher) = ((Socket)connections[0], (Socket)connections[1]);
        await watcher.OpenAsync(streamId, tokens, result.Add(crossInstance: true), cancellationToken);
        await producer.OpenAsync(streamId, tokens, result.Add(crossInstance: false), cancellationToken);
        var started = await http.PostAsync(FormattableString.Invariant($"{producer.Url}/start?stream={streamId}&tokens={tokens}&tokensPerSecond={tokensPerSecond}"), null, cancellationToken);
        started.EnsureSuccessStatusCode();
        return streamId;
    }

    public Task<ServerStats> TakeServerStatsAsync(CancellationToken cancellationToken) => Task.FromResult(ServerStats.None);

    public async ValueTask DisposeAsync()
    {
        await servers.DisposeAsync();
        http.Dispose();
    }

    /// <summary>One client: a WebSocket to one instance, reading one JSON chunk per frame.</summary>
    private sealed class Socket(string url) : IAsyncDisposable
    {
        private readonly ClientWebSocket socket = new();
        private readonly CancellationTokenSource closing = new();
        private Task reading = Task.CompletedTask;

        public string Url => url;

        public async Task OpenAsync(Guid streamId, int tokens, Receiver receiver, CancellationToken cancellationToken)
        {
            receiver.Locked(r => r.Expected = tokens);
            await socket.ConnectAsync(new Uri($"{url.Replace("http", "ws", StringComparison.Ordinal)}/ws?stream={streamId}"), cancellationToken);
            await socket.ReceiveAsync(new byte[16], cancellationToken); // "ready": its instance is subscribed
            reading = ReadAsync(tokens, receiver);
        }

        private async Task ReadAsync(int tokens, Receiver receiver)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var count = 0;
                    ValueWebSocketReceiveResult frame;
                    do
                    {
                        frame = await socket.ReceiveAsync(buffer.AsMemory(count), closing.Token);
                        count += frame.Count;
                    }
                    while (!frame.EndOfMessage);

                    if (frame.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    var chunk = JsonSerializer.Deserialize<RawChunk>(buffer.AsSpan(0, count))!;
                    receiver.Chunk(chunk.Q, chunk.D, chunk.T, Clock.UnixMilliseconds());
                    receiver.Locked(r => r.Finished = r.Sequences.Count >= tokens);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await closing.CancelAsync();
            await reading;
            socket.Dispose();
            closing.Dispose();
        }
    }
}
