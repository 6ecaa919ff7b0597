using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Bench.Load;

/// <summary>
/// The <c>signalr-group</c> peer (<see cref="Peers.SignalRGroupServer"/>): two instances on the stock Redis backplane.
/// Like the product's run, each stream has a client on the producing instance (same-instance) and one on the other
/// (cross-instance), both in the stream's group.
/// </summary>
internal sealed class SignalRGroupPipeline(ServerPair servers, int tokens, double tokensPerSecond) : IPipeline
{
    public string Name => "signalr-group";

    public IReadOnlyList<string> Urls => servers.Urls;

    public IReadOnlyList<int> ServerProcessIds => servers.ProcessIds;

    public static async Task<SignalRGroupPipeline> StartAsync(BenchSettings settings, int tokens, CancellationToken cancellationToken) =>
        new(await ServerPair.StartBenchPeerAsync("signalr-group", settings.Redis, cancellationToken), tokens, settings.TokensPerSecond);

    public async Task<IAsyncDisposable[]> ConnectAsync(int index, CancellationToken cancellationToken) =>
        [await ConnectAsync(Urls[index % 2], cancellationToken), await ConnectAsync(Urls[(index + 1) % 2], cancellationToken)];

    /// <summary>A SignalR client of a peer's or a baseline's hub (<c>/hubs/chat</c>, WebSockets, JSON).</summary>
    internal static async Task<HubConnection> ConnectAsync(string url, CancellationToken cancellationToken)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl($"{url}{ChatHubPaths.Hub}", o =>
            {
                o.SkipNegotiation = true;
                o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
            })
            .Build();
        await connection.StartAsync(cancellationToken);
        return connection;
    }

    public async Task<Guid> StartStreamAsync(IAsyncDisposable[] connections, StreamResult result, CancellationToken cancellationToken)
    {
        var streamId = Guid.NewGuid();
        var (producer, watcher) = ((HubConnection)connections[0], (HubConnection)connections[1]);
        Watch(producer, result.Add(crossInstance: false));
        Watch(watcher, result.Add(crossInstance: true));
        await watcher.InvokeAsync("Watch", streamId, cancellationToken);
        await producer.InvokeAsync("Watch", streamId, cancellationToken);
        await producer.InvokeAsync("Start", streamId, tokens, tokensPerSecond, cancellationToken);
        return streamId;
    }

    private void Watch(HubConnection connection, Receiver receiver)
    {
        receiver.Locked(r => r.Expected = tokens);
        connection.On<Chunk>(ChatHubMethods.ReceiveChunk, chunk =>
        {
            receiver.Chunk(chunk.Sequence, chunk.Delta, chunk.EmittedAt, Clock.UnixMilliseconds());
            receiver.Locked(r => r.Finished = r.Sequences.Count >= tokens);
        });
    }

    public Task<ServerStats> TakeServerStatsAsync(CancellationToken cancellationToken) => Task.FromResult(ServerStats.None);

    public ValueTask DisposeAsync() => servers.DisposeAsync();
}
