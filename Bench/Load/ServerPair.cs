namespace ChatStreaming.Bench.Load;

/// <summary>
/// The two instances of a pipeline's server (the product's hubs, a peer's servers, a baseline's), started side by side,
/// each ready once its <c>/health/ready</c> answers; stopped together.
/// </summary>
internal sealed class ServerPair : IAsyncDisposable
{
    private readonly ChildProcess[] servers;

    private ServerPair(ChildProcess[] servers, string[] urls) => (this.servers, Urls) = (servers, urls);

    public IReadOnlyList<string> Urls { get; }

    public IReadOnlyList<int> ProcessIds => [.. servers.Select(s => s.Id)];

    /// <summary>
    /// Starts two servers at once; <paramref name="command"/> gives the program and its arguments for a URL and its port.
    /// If either fails to start, the other is stopped.
    /// </summary>
    public static async Task<ServerPair> StartAsync(Func<string, int, (string FileName, string[] Arguments)> command, CancellationToken cancellationToken, IDictionary<string, string>? environment = null)
    {
        var first = LoopbackPorts.Free();
        int second;
        while ((second = LoopbackPorts.Free()) == first)
        {
        }

        int[] ports = [first, second];
        var urls = ports.Select(port => $"http://127.0.0.1:{port}").ToArray();
        var starts = ports.Select((port, i) =>
        {
            var (fileName, arguments) = command(urls[i], port);
            return ChildProcess.StartAsync(fileName, arguments, environment ?? new Dictionary<string, string>(), $"{urls[i]}/health/ready", cancellationToken);
        }).ToArray();
        try
        {
            return new ServerPair(await Task.WhenAll(starts), urls);
        }
        catch
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>A peer of this program: <c>ChatStreaming.Bench peer --kind KIND --urls URL --redis REDIS</c>.</summary>
    public static Task<ServerPair> StartBenchPeerAsync(string kind, string redis, CancellationToken cancellationToken) =>
        StartAsync((url, _) => ("dotnet", [BenchSettings.Assembly("Bench", "ChatStreaming.Bench.dll"), "peer", "--kind", kind, "--urls", url, "--redis", redis]), cancellationToken);

    public async ValueTask DisposeAsync()
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }
}
