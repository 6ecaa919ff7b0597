using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ChatStreaming.Bench.Load;
using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.Http.Connections;
using StackExchange.Redis;

namespace ChatStreaming.Bench.Soak;

/// <summary>The soak: how the settings of one run look.</summary>
internal sealed record SoakSettings(
    int Clients, TimeSpan Duration, TimeSpan KillEvery, double TokensPerSecond, int Tokens, string Redis, string Postgres, TimeSpan ReplayTtl);

/// <summary>
/// Many clients (the shipped .NET client logic, <see cref="ChatSession"/>) over two hub instances, each sending its next
/// message as soon as its answer ended, for minutes, while Redis pub/sub connections are killed on a schedule. Counts
/// answers whose text the client ended with differs from the saved text (gaps or doubles), and samples the memory of
/// the hubs and Redis to report its slope after warm-up.
/// </summary>
internal sealed class SoakRun(SoakSettings settings)
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private long answers, exact, mismatched, stuck, refused, kills;

    public async Task<int> RunAsync(string? markdownPath, string? jsonPath, string command, CancellationToken cancellationToken)
    {
        var bench = new BenchSettings(settings.Clients, settings.TokensPerSecond, settings.Tokens, TimeSpan.Zero, settings.Redis, settings.Postgres, null,
            settings.ReplayTtl, [], 0, false, ["redis"]);
        await using var hubs = await RedisPipeline.StartAsync(bench, settings.Tokens, ChatHubProtocol.Json, cancellationToken);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{settings.Redis},allowAdmin=true");
        var started = DateTimeOffset.UtcNow;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(settings.Duration);
        Console.WriteLine($"soak: {settings.Clients} clients on {string.Join(", ", hubs.Urls)} for {settings.Duration}, pub/sub killed every {settings.KillEvery}");

        var samples = new List<Sample>();
        var sampling = SampleAsync(hubs.ServerProcessIds, redis, started, samples, stop.Token);
        var killing = KillPubSubAsync(redis, stop.Token);
        var clients = Enumerable.Range(0, settings.Clients).Select(i => ClientAsync(hubs.Urls[i % hubs.Urls.Count], i, stop.Token)).ToList();
        await Task.WhenAll([.. clients, sampling, killing]);

        var warmUp = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(1).Ticks, settings.Duration.Ticks / 4));
        var steady = samples.Where(s => s.Elapsed >= warmUp).ToList();
        var report = new SoakReport(
            command, settings, answers, exact, mismatched, stuck, refused, kills, warmUp,
            Slope(steady, s => s.HubsRssMb), Slope(steady, s => s.RedisMb), samples);
        Console.WriteLine(report.Summary());
        if (markdownPath is not null)
        {
            await File.WriteAllTextAsync(markdownPath, report.Markdown(), CancellationToken.None);
        }

        if (jsonPath is not null)
        {
            await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, Indented), CancellationToken.None);
        }

        return mismatched == 0 && stuck == 0 ? 0 : 1;
    }

    private async Task ClientAsync(string url, int index, CancellationToken stop)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(index * 20), CancellationToken.None); // connect in a ramp, not a stampede
        using var http = new HttpClient();
        var response = await http.PostAsJsonAsync($"{url}{ChatHubPaths.DevToken}", new DevTokenRequest($"soak-{index}"), CancellationToken.None);
        var token = (await response.Content.ReadFromJsonAsync<DevTokenResponse>(CancellationToken.None))!.AccessToken;
        await using var session = new ChatSession(new Uri(url), () => Task.FromResult<string?>(token), o =>
        {
            o.SkipNegotiation = true;
            o.Transports = HttpTransportType.WebSockets;
        });
        await session.StartAsync(CancellationToken.None);
        await session.CreateConversationAsync("soak", CancellationToken.None);
        var ended = new TaskCompletionSource<AnswerState>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Finished += answer => ended.TrySetResult(answer);
        while (!stop.IsCancellationRequested)
        {
            ended = new TaskCompletionSource<AnswerState>(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                await session.SendAsync($"soak {index} message", CancellationToken.None);
            }
            catch (Microsoft.AspNetCore.SignalR.HubException)
            {
                Interlocked.Increment(ref refused); // rate limited or busy: a user would wait and retry
                await Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None);
                continue;
            }

            AnswerState answer;
            try
            {
                answer = await ended.Task.WaitAsync(TimeSpan.FromMinutes(2), CancellationToken.None);
            }
            catch (TimeoutException)
            {
                Interlocked.Increment(ref stuck);
                continue;
            }

            Interlocked.Increment(ref answers);
            if (answer.Text.ToString() == answer.Finished!.Content)
            {
                Interlocked.Increment(ref exact);
            }
            else
            {
                Interlocked.Increment(ref mismatched);
            }
        }
    }

    private async Task KillPubSubAsync(ConnectionMultiplexer redis, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(settings.KillEvery, stop);
                await redis.GetServers()[0].ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
                Interlocked.Increment(ref kills);
                Console.WriteLine($"soak: killed pub/sub connections ({kills})");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task SampleAsync(IReadOnlyList<int> hubProcesses, ConnectionMultiplexer redis, DateTimeOffset started, List<Sample> samples, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(SampleEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var info = await redis.GetServers()[0].InfoAsync("memory");
                var redisBytes = long.Parse(info.SelectMany(g => g).First(p => p.Key == "used_memory").Value, CultureInfo.InvariantCulture);
                var sample = new Sample(DateTimeOffset.UtcNow - started, hubProcesses.Sum(RssMegabytes), redisBytes / 1048576.0);
                samples.Add(sample);
                Console.WriteLine($"soak: {sample.Elapsed:hh\\:mm\\:ss} hubs RSS {sample.HubsRssMb:0.0} MB, Redis {sample.RedisMb:0.0} MB");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static double RssMegabytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>Least-squares slope in MB per hour.</summary>
    private static double Slope(IReadOnlyList<Sample> samples, Func<Sample, double> value)
    {
        if (samples.Count < 2)
        {
            return double.NaN;
        }

        var xs = samples.Select(s => s.Elapsed.TotalHours).ToList();
        var ys = samples.Select(value).ToList();
        var (mx, my) = (xs.Average(), ys.Average());
        var den = xs.Sum(x => (x - mx) * (x - mx));
        return den == 0 ? double.NaN : xs.Zip(ys).Sum(p => (p.First - mx) * (p.Second - my)) / den;
    }
}

internal sealed record Sample(TimeSpan Elapsed, double HubsRssMb, double RedisMb);

internal sealed record SoakReport(
    string Command, SoakSettings Settings, long Answers, long Exact, long Mismatched, long Stuck, long Refused, long PubSubKills,
    TimeSpan WarmUp, double HubsRssSlopeMbPerHour, double RedisSlopeMbPerHour, IReadOnlyList<Sample> Samples)
{
    public string Summary() => string.Create(CultureInfo.InvariantCulture,
        $"soak: {Answers} answers, {Exact} exact, {Mismatched} with a gap or double, {Stuck} never ended, {Refused} sends refused, {PubSubKills} pub/sub kills; "
        + $"after {WarmUp.TotalMinutes:0.#} min warm-up: hubs RSS {HubsRssSlopeMbPerHour:+0.0;-0.0} MB/h, Redis {RedisSlopeMbPerHour:+0.0;-0.0} MB/h");

    public string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Soak run").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Command: `{Command}` ({DateTimeOffset.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores).").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{Settings.Clients} clients (`ChatSession`, the shipped .NET client logic: dedupe, gap fill, resume) spread over two hub instances, each sending its next message as soon as its answer ended; simulated model {Settings.TokensPerSecond} tokens/s × {Settings.Tokens} tokens; `CLIENT KILL TYPE pubsub` every {Settings.KillEvery.TotalMinutes:0.#} min; replay TTL {Settings.ReplayTtl}; {Settings.Duration.TotalMinutes:0.#} minutes.").AppendLine();
        md.AppendLine("| answers | exact | gap or double | never ended | sends refused | pub/sub kills | hubs RSS slope | Redis slope |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| {Answers:N0} | {Exact:N0} | {Mismatched} | {Stuck} | {Refused} | {PubSubKills} | {HubsRssSlopeMbPerHour:+0.0;-0.0} MB/h | {RedisSlopeMbPerHour:+0.0;-0.0} MB/h |").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Slopes: least squares over the samples after a {WarmUp.TotalMinutes:0.#}-minute warm-up (samples every 10 s).").AppendLine();
        md.AppendLine("| time | hubs RSS (MB, both) | Redis used_memory (MB) |").AppendLine("|---|---|---|");
        foreach (var s in Samples.Where((_, i) => i % 3 == 0))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {s.Elapsed:hh\\:mm\\:ss} | {s.HubsRssMb:0.0} | {s.RedisMb:0.0} |");
        }

        return md.ToString();
    }
}
