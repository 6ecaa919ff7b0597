using System.Diagnostics;
using System.Text.Json;
using ChatStreaming.Bench.Peers;

namespace ChatStreaming.Bench.Load;

/// <summary>
/// The <c>resumable-stream</c> peer: Vercel's <c>resumable-stream</c> npm package (2.2.x) in a small Node server
/// (<c>Bench/Peers/resumable-stream/server.mjs</c>), two instances on the same Redis. Per stream, the producer's own
/// client reads the stream over SSE from the instance that runs it (same-instance); a second client resumes it from
/// the other instance over SSE (cross-instance), which the package serves by asking the producer over Redis pub/sub.
/// </summary>
internal sealed class ResumableStreamPipeline(ServerPair servers, int tokens, double tokensPerSecond) : IPipeline
{
    private static readonly string Folder = Path.Combine(BenchSettings.RepositoryRoot, "Bench", "Peers", "resumable-stream");

    private readonly HttpClient http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) }) { Timeout = Timeout.InfiniteTimeSpan };

    public string Name => "resumable-stream";

    public IReadOnlyList<string> Urls => servers.Urls;

    public IReadOnlyList<int> ServerProcessIds => servers.ProcessIds;

    public static async Task<ResumableStreamPipeline> StartAsync(BenchSettings settings, int tokens, CancellationToken cancellationToken)
    {
        await InstallAsync(cancellationToken);
        var redis = StackExchange.Redis.ConfigurationOptions.Parse(settings.Redis).EndPoints.Single().ToString()!;
        var servers = await ServerPair.StartAsync((_, port) => ("node", [Path.Combine(Folder, "server.mjs"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), $"redis://{redis}"]), cancellationToken);
        return new(servers, tokens, settings.TokensPerSecond);
    }

    /// <summary>The package and its Redis client, as locked in package-lock.json (once per checkout).</summary>
    private static async Task InstallAsync(CancellationToken cancellationToken)
    {
        if (Directory.Exists(Path.Combine(Folder, "node_modules", "resumable-stream")))
        {
            return;
        }

        using var npm = Process.Start(new ProcessStartInfo("npm", ["ci", "--no-audit", "--no-fund", "--silent"]) { WorkingDirectory = Folder })!;
        await npm.WaitForExitAsync(cancellationToken);
        if (npm.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm ci in {Folder} exited {npm.ExitCode}");
        }
    }

    public Task<IAsyncDisposable[]> ConnectAsync(int index, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable[]>([new Reader(http, Urls[index % 2]), new Reader(http, Urls[(index + 1) % 2])]);

    /// <summary>
    /// The producer's request starts the stream; its response headers come once the stream exists (server.mjs), and
    /// the other instance resumes it at once. resumable-stream cannot resume a stream that has ended, so waiting for
    /// the first chunk first lost whole answers of the quick run's one-second streams on a starved machine.
    /// </summary>
    public async Task<Guid> StartStreamAsync(IAsyncDisposable[] connections, StreamResult result, CancellationToken cancellationToken)
    {
        var streamId = Guid.NewGuid();
        var (producer, watcher) = ((Reader)connections[0], (Reader)connections[1]);
        var producing = result.Add(crossInstance: false);
        var watching = result.Add(crossInstance: true);
        await producer.OpenAsync(FormattableString.Invariant($"/stream/{streamId:N}?tokens={tokens}&tps={tokensPerSecond}"), tokens, producing, cancellationToken);
        await watcher.OpenAsync($"/resume/{streamId:N}", tokens, watching, cancellationToken);
        return streamId;
    }

    public Task<ServerStats> TakeServerStatsAsync(CancellationToken cancellationToken) => Task.FromResult(ServerStats.None);

    public async ValueTask DisposeAsync()
    {
        await servers.DisposeAsync();
        http.Dispose();
    }

    /// <summary>One SSE client: each <c>data:</c> line is one chunk as JSON.</summary>
    private sealed class Reader(HttpClient http, string url) : IAsyncDisposable
    {
        private readonly CancellationTokenSource closing = new();
        private Task reading = Task.CompletedTask;

        public async Task OpenAsync(string path, int tokens, Receiver receiver, CancellationToken cancellationToken)
        {
            receiver.Locked(r => r.Expected = tokens);
            var response = await http.GetAsync($"{url}{path}", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            reading = ReadAsync(response, tokens, receiver);
        }

        private async Task ReadAsync(HttpResponseMessage response, int tokens, Receiver receiver)
        {
            try
            {
                using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(closing.Token));
                while (await lines.ReadLineAsync(closing.Token) is { } line)
                {
                    if (!line.StartsWith("data: {", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var chunk = JsonSerializer.Deserialize<RawChunk>(line.AsSpan(6))!;
                    receiver.Chunk(chunk.Q, chunk.D, chunk.T, Clock.UnixMilliseconds());
                    receiver.Locked(r => r.Finished = r.Sequences.Count >= tokens);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or HttpRequestException)
            {
            }
            finally
            {
                response.Dispose();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await closing.CancelAsync();
            await reading;
            closing.Dispose();
        }
    }
}
