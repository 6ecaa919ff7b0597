using System.Globalization;
using System.Net.Http.Json;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Bench.Load;

/// <summary>A baseline (polling or notify): two baseline server processes of this program, the same SignalR clients.</summary>
internal sealed class BaselinePipeline : IPipeline
{
    private ServerPair servers = null!;
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private int tokens;
    private double tokensPerSecond;

    private BaselinePipeline(string name) => Name = name;

    public string Name { get; }

    public IReadOnlyList<string> Urls => servers.Urls;

    public IReadOnlyList<int> ServerProcessIds => servers.ProcessIds;

    public string? Database { get; private init; }

    /// <summary>Two baseline servers on <paramref name="postgres"/>, a database that exists.</summary>
    public static async Task<BaselinePipeline> StartAsync(string mode, BenchSettings settings, int tokens, string postgres, CancellationToken cancellationToken)
    {
        var pipeline = new BaselinePipeline(mode) { tokens = tokens, tokensPerSecond = settings.TokensPerSecond, Database = BenchSettings.DatabaseOf(postgres) };
        pipeline.servers = await ServerPair.StartAsync((url, _) => ("dotnet", [
            BenchSettings.Assembly("Bench", "ChatStreaming.Bench.dll"), "baseline", "--mode", mode, "--urls", url, "--postgres", postgres,
            "--poll-interval", ((int)settings.PollInterval.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)]), cancellationToken);
        return pipeline;
    }

    public async Task<IAsyncDisposable[]> ConnectAsync(int index, CancellationToken cancellationToken)
    {
        return [await SignalRGroupPipeline.ConnectAsync(Urls[index % Urls.Count], cancellationToken)];
    }

    public async Task<Guid> StartStreamAsync(IAsyncDisposable[] connections, StreamResult result, CancellationToken cancellationToken)
    {
        var streamId = Guid.NewGuid();
        var connection = (HubConnection)connections[0];
        var receiver = result.Add(crossInstance: false); // where it is produced does not matter: every instance reads Postgres
        receiver.Locked(r => r.Expected = tokens);
        connection.On<Chunk>(ChatHubMethods.ReceiveChunk, chunk =>
        {
            receiver.Chunk(chunk.Sequence, chunk.Delta, chunk.EmittedAt, Clock.UnixMilliseconds());
            receiver.Locked(r => r.Finished = r.Sequences.Count >= tokens);
        });
        await connection.InvokeAsync("Watch", streamId, tokens, cancellationToken);
        await connection.InvokeAsync("Start", streamId, tokens, tokensPerSecond, cancellationToken);
        return streamId;
    }

    public async Task<ServerStats> TakeServerStatsAsync(CancellationToken cancellationToken)
    {
        var writes = new List<double>();
        long polls = 0, empty = 0;
        foreach (var url in Urls)
        {
            var stats = (await http.GetFromJsonAsync<Snapshot>($"{url}/stats", cancellationToken))!;
            writes.AddRange(stats.WriteMilliseconds);
            polls += stats.Polls;
            empty += stats.EmptyPolls;
        }

        writes.Sort();
        return new ServerStats(Percentiles.Of(writes, 50), Percentiles.Of(writes, 99), writes.Count, polls, empty);
    }

    private sealed record Snapshot(List<double> WriteMilliseconds, long Polls, long EmptyPolls);

    public async ValueTask DisposeAsync()
    {
        if (servers is not null)
        {
            await servers.DisposeAsync();
        }

        http.Dispose();
    }
}
