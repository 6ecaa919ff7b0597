namespace ChatStreaming.Bench.Load;

/// <summary>Two instances of a peer's server (this program's <c>peer</c> command, or a Node server), and their CPU.</summary>
internal sealed class PeerServers : IAsyncDisposable
{
    private readonly List<ChildProcess> servers = [];

    public IReadOnlyList<string> Urls { get; private set; } = [];

    public IReadOnlyList<int> ProcessIds => [.. servers.Select(s => s.Id)];

    /// <summary>Starts two servers; <paramref name="command"/> gives the program and its arguments for a URL and port.</summary>
    public static async Task<PeerServers> StartAsync(Func<string, int, (string FileName, string[] Arguments)> command, CancellationToken cancellationToken)
    {
        var peers = new PeerServers();
        var urls = new List<string>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                var port = RedisPipeline.Port();
                var url = $"http://127.0.0.1:{port}";
                var (fileName, arguments) = command(url, port);
                peers.servers.Add(await ChildProcess.StartAsync(fileName, arguments, new Dictionary<string, string>(), $"{url}/health/ready", cancellationToken));
                urls.Add(url);
            }
        }
        catch
        {
            await peers.DisposeAsync();
            throw;
        }

        peers.Urls = urls;
        return peers;
    }

    /// <summary>A peer of this program: <c>ChatStreaming.Bench peer --kind KIND --urls URL --redis REDIS</c>.</summary>
    public static Task<PeerServers> StartBenchPeerAsync(string kind, string redis, CancellationToken cancellationToken) =>
        StartAsync((url, _) => ("dotnet", [BenchSettings.Assembly("Bench", "ChatStreaming.Bench.dll"), "peer", "--kind", kind, "--urls", url, "--redis", redis]), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }
}
