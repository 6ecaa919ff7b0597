using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Bench.Load;

/// <summary>
/// The product: two ChatStreaming Hub processes; each client sends a message and watches its answer. On the run's single
/// Redis, or (<c>redis-cluster</c>) on its Redis Cluster.
/// </summary>
internal sealed partial class RedisPipeline(ChatHubProtocol protocol, bool onRedisCluster) : IPipeline
{
    private ServerPair hubs = null!;
    private bool ownsHubs = true;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string runId = Guid.NewGuid().ToString("N")[..8];
    private Dictionary<(string Histogram, double Bound), double> lastBuckets = [];

    /// <summary>
    /// "redis" (JSON, what every client gets by default), "redis-msgpack" (the MessagePack hub protocol), "redis-cluster"
    /// (JSON, on the Redis Cluster).
    /// </summary>
    public string Name => onRedisCluster ? "redis-cluster" : protocol == ChatHubProtocol.MessagePack ? "redis-msgpack" : "redis";

    public bool OnRedisCluster => onRedisCluster;

    public IReadOnlyList<string> Urls => hubs.Urls;

    public IReadOnlyList<int> ServerProcessIds => hubs.ProcessIds;

    public string? Database { get; private init; }

    /// <summary>
    /// Two hubs on <paramref name="postgres"/> (else the run's database); <see cref="Sharing"/> gives the same hubs to
    /// clients of the other hub protocol.
    /// </summary>
    public static async Task<RedisPipeline> StartAsync(
        BenchSettings settings, int tokens, ChatHubProtocol protocol, CancellationToken cancellationToken, bool onRedisCluster = false, string? postgres = null)
    {
        postgres ??= settings.Postgres;
        var pipeline = new RedisPipeline(protocol, onRedisCluster) { Database = BenchSettings.DatabaseOf(postgres) };
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__Redis"] = onRedisCluster ? settings.RedisCluster ?? throw new ArgumentException("redis-cluster needs --redis-cluster (./bench.sh --cluster)") : settings.Redis,
            ["ConnectionStrings__Postgres"] = postgres,
            ["Chat__Model__Provider"] = "Simulated",
            ["Chat__Model__Simulated__TokensPerSecond"] = settings.TokensPerSecond.ToString(CultureInfo.InvariantCulture),
            ["Chat__Model__Simulated__ResponseTokens"] = tokens.ToString(CultureInfo.InvariantCulture),
            ["Chat__MaxConcurrentGenerations"] = "5000",
            ["Chat__GeneratorQueueCapacity"] = "20000",
            ["Chat__ReplayTtl"] = settings.ReplayTtl.ToString(),
            ["Logging__LogLevel__Default"] = "Warning",
            // One load generator on one address signs in thousands of users and opens thousands of conversations:
            // the per-address and per-user call limits would measure themselves, not the streaming path.
            ["Auth__DevTokensPerMinute"] = "0",
            ["Chat__ConversationsPerMinutePerUser"] = "0",
            ["Chat__ReadsPerMinutePerUser"] = "0",
            ["Chat__SendCallsPerMinutePerUser"] = "0",
        };
        pipeline.hubs = await ServerPair.StartAsync((url, _) => ("dotnet", [BenchSettings.Assembly("Hub", "ChatStreaming.Hub.dll"), "--urls", url]), cancellationToken, environment);
        await pipeline.TakeServerStatsAsync(cancellationToken); // baseline of the cumulative histograms
        return pipeline;
    }

    /// <summary>
    /// The same two hubs, for clients of <paramref name="clientProtocol"/> (every hub serves JSON and MessagePack): the
    /// product's two protocols measured on one deployment. The hubs stop with the pipeline that started them.
    /// </summary>
    public async Task<RedisPipeline> Sharing(ChatHubProtocol clientProtocol, CancellationToken cancellationToken)
    {
        var pipeline = new RedisPipeline(clientProtocol, onRedisCluster) { hubs = hubs, ownsHubs = false, Database = Database };
        await pipeline.TakeServerStatsAsync(cancellationToken);
        return pipeline;
    }

    /// <summary>Two tabs of one user: the sender on instance <c>index % 2</c>, a watcher on the other one.</summary>
    public async Task<IAsyncDisposable[]> ConnectAsync(int index, CancellationToken cancellationToken)
    {
        var home = Urls[index % Urls.Count];
        var response = await http.PostAsJsonAsync($"{home}{ChatHubPaths.DevToken}", new DevTokenRequest($"bench-{runId}-{index}"), cancellationToken);
        var token = (await response.Content.ReadFromJsonAsync<DevTokenResponse>(cancellationToken))!.AccessToken;
        return [await ConnectAsync(home, token, cancellationToken), await ConnectAsync(Urls[(index + 1) % Urls.Count], token, cancellationToken)];
    }

    /// <summary>Like every client of the product: it takes several chunks in one frame when its connection backs up.</summary>
    private async Task<HubConnection> ConnectAsync(string url, string token, CancellationToken cancellationToken)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl($"{url}{ChatHubPaths.Hub}?{ChatHubPaths.ChunkBatchesParameter}=true", o =>
            {
                o.AccessTokenProvider = () => Task.FromResult<string?>(token);
                o.SkipNegotiation = true;
                o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
            })
            .WithProtocol(protocol)
            .Build();
        await connection.StartAsync(cancellationToken);
        return connection;
    }

    /// <summary>
    /// The watcher joins the conversation on the other instance, then the sender sends on its own: each chunk is
    /// delivered twice, same-instance (the sender) and cross-instance (the watcher), both measured.
    /// </summary>
    public async Task<Guid> StartStreamAsync(IAsyncDisposable[] connections, StreamResult result, CancellationToken cancellationToken)
    {
        var (sender, watcher) = ((HubConnection)connections[0], (HubConnection)connections[1]);
        var conversation = await sender.InvokeAsync<Conversation>(ChatHubMethods.CreateConversation, "bench", cancellationToken);
        Watch(sender, result.Add(crossInstance: false));
        Watch(watcher, result.Add(crossInstance: true));
        await watcher.InvokeAsync<ConversationSnapshot>(ChatHubMethods.JoinConversation, conversation.Id, cancellationToken);
        var sent = await sender.InvokeAsync<SendMessageResult>(
            ChatHubMethods.SendMessage, new SendMessageRequest(conversation.Id, "benchmark prompt"), cancellationToken);
        return sent.AssistantMessageId;
    }

    private static void Watch(HubConnection connection, Receiver receiver)
    {
        connection.On<Chunk>(ChatHubMethods.ReceiveChunk, chunk => receiver.Chunk(chunk.Sequence, chunk.Delta, chunk.EmittedAt, Clock.UnixMilliseconds()));
        connection.On<Chunk[]>(ChatHubMethods.ReceiveChunks, chunks =>
        {
            var now = Clock.UnixMilliseconds();
            foreach (var chunk in chunks)
            {
                receiver.Chunk(chunk.Sequence, chunk.Delta, chunk.EmittedAt, now);
            }
        });
        connection.On<GenerationFinished>(ChatHubMethods.GenerationFinished, finished => receiver.Locked(r =>
        {
            r.Expected = finished.LastSequence;
            r.ContentMatches = finished.Status == MessageStatus.Completed && r.Text.ToString() == finished.Content;
            return r.Finished = true;
        }));
    }

    /// <summary>The hubs' chunk histograms (Prometheus /metrics) since the last scrape.</summary>
    public async Task<ServerStats> TakeServerStatsAsync(CancellationToken cancellationToken)
    {
        var totals = new Dictionary<(string Histogram, double Bound), double>();
        foreach (var url in Urls)
        {
            var text = await http.GetStringAsync($"{url}/metrics", cancellationToken);
            foreach (Match match in BucketLine().Matches(text))
            {
                var bound = match.Groups[2].Value == "+Inf" ? double.PositiveInfinity : double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
                var key = (match.Groups[1].Value, bound);
                totals[key] = totals.GetValueOrDefault(key) + double.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture);
            }
        }

        List<(double, double)> Since(string histogram) => [.. totals.Where(b => b.Key.Histogram == histogram).OrderBy(b => b.Key.Bound)
            .Select(b => (b.Key.Bound, b.Value - lastBuckets.GetValueOrDefault(b.Key)))];
        var writes = Since("chunk_write_duration");
        var (delay, received) = (Since("chunk_delay"), Since("chunk_received_delay"));
        lastBuckets = totals;
        return new ServerStats(
            Percentiles.FromBuckets(writes, 50), Percentiles.FromBuckets(writes, 99), (long)(writes.Count == 0 ? 0 : writes[^1].Item2), 0, 0,
            Percentiles.FromBuckets(delay, 50), Percentiles.FromBuckets(received, 50));
    }

    [GeneratedRegex("""chatstreaming_(chunk_write_duration|chunk_delay|chunk_received_delay)_milliseconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)""")]
    private static partial Regex BucketLine();

    public async ValueTask DisposeAsync()
    {
        if (hubs is not null && ownsHubs)
        {
            await hubs.DisposeAsync();
        }

        http.Dispose();
    }
}
