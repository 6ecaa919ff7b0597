using System.Globalization;
using ChatStreaming.Bench.Load;
using ChatStreaming.Bench.Report;
using Npgsql;
using StackExchange.Redis;

namespace ChatStreaming.Bench;

/// <summary>
/// Starts every pipeline's servers, then runs the measured runs in rounds and the ramp step by step, the pipelines
/// interleaved (see <see cref="RunAsync"/>), then writes the reports.
/// </summary>
internal sealed class BenchRun(BenchSettings settings)
{
    /// <summary>
    /// Every pipeline's servers start first and stay up (idle ones cost next to nothing, and each pipeline that uses
    /// Postgres has a database of its own), each is warmed up; then <see cref="BenchSettings.Rounds"/> rounds run each
    /// pipeline once at <see cref="BenchSettings.Streams"/>, one after another, each round starting one pipeline later
    /// in the list; then each ramp step runs every pipeline still in the ramp before the next step. This machine's speed
    /// drifts by tens of percent within an hour: run one after another for minutes each, a pipeline's figures would be
    /// partly its hour's; interleaved and pooled, every pipeline meets the same drift.
    /// </summary>
    public async Task<int> RunAsync(string command, string? jsonPath, string? markdownPath, string? chartPath, CancellationToken cancellationToken)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{settings.Redis},allowAdmin=true");
        await using var cluster = settings.RedisCluster is null ? null : await ConnectionMultiplexer.ConnectAsync($"{settings.RedisCluster},allowAdmin=true");
        await using var postgres = NpgsqlDataSource.Create(settings.Postgres);
        await PrepareDatabaseAsync(cancellationToken);
        var probe = new SystemProbe(redis, cluster is null ? null : new RedisNodesProbe(cluster), postgres, settings.PostgresDataDirectory);
        var runner = new LoadRunner(probe);
        var results = new List<PipelineResult>();
        var ramps = new Dictionary<string, IReadOnlyList<PipelineResult>>();
        var pipelines = await StartAllAsync(runner, settings.Tokens, cancellationToken);
        try
        {
            results.AddRange(await RoundsAsync(runner, probe, pipelines, pipelines, settings.Streams, settings.Rounds, 0, ramp: false, cancellationToken));

            if (settings.Ramp.Count > 0)
            {
                if (settings.RampTokens != settings.Tokens)
                {
                    await DisposeAllAsync(pipelines); // the product's answer length is a setting of its hubs
                    pipelines = await StartAllAsync(runner, settings.RampTokens, cancellationToken);
                }

                await RampAsync(runner, probe, pipelines, ramps, cancellationToken);
            }
        }
        finally
        {
            await DisposeAllAsync(pipelines);
        }

        var report = new RunReport(DateTimeOffset.UtcNow, command, await MachineAsync(redis, postgres), settings, results, ramps);
        await WriteAsync(jsonPath, JsonReport.Write(report), cancellationToken);
        await WriteAsync(chartPath, ChartReport.Write(report), cancellationToken);
        await WriteAsync(markdownPath, MarkdownReport.Write(report, chartPath is null ? "benchmarks.svg" : Path.GetFileName(chartPath)), cancellationToken);
        if (markdownPath is not null)
        {
            Console.Error.WriteLine($"Report: {markdownPath}");
        }

        var redisResult = report.Result("redis");
        return redisResult is null || (redisResult.Lost == 0 && redisResult.Duplicated == 0 && redisResult.UnfinishedStreams == 0) ? 0 : 3;
    }

    /// <summary>
    /// Each ramp step, every pipeline still in the ramp, <see cref="BenchSettings.RampRounds"/> times (interleaved and
    /// turned as the main run's rounds, then pooled); a pipeline leaves the ramp after its first step that loses or is
    /// 20× over the SLO, or whose run fails.
    /// </summary>
    private async Task RampAsync(
        LoadRunner runner, SystemProbe probe, List<IPipeline> pipelines, Dictionary<string, IReadOnlyList<PipelineResult>> ramps, CancellationToken cancellationToken)
    {
        var steps = pipelines.ToDictionary(p => p.Name, _ => new List<PipelineResult>());
        var going = pipelines.ToList();
        var rounds = settings.RampRounds;
        for (var i = 0; i < settings.Ramp.Count && going.Count > 0; i++)
        {
            foreach (var step in await RoundsAsync(runner, probe, pipelines, going, settings.Ramp[i], rounds, i * rounds, ramp: true, cancellationToken))
            {
                steps[step.Pipeline].Add(step);
                if (step.Lost + step.UnfinishedStreams > 0 || step.H(99) > 20 * RunReport.SloP99Milliseconds)
                {
                    going.RemoveAll(p => p.Name == step.Pipeline); // losing, or 20× over the SLO: larger steps only take longer to say the same
                }
            }
        }

        foreach (var pipeline in pipelines)
        {
            ramps[pipeline.Name] = steps[pipeline.Name];
        }
    }

    /// <summary>
    /// <paramref name="rounds"/> rounds at <paramref name="streams"/> streams, each running every pipeline of
    /// <paramref name="running"/> once, the list turned by one more each round (the first by <paramref name="turn"/>),
    /// each run once the machine settled; returns each pipeline's runs pooled (<see cref="PipelineResult.Pool"/>), in
    /// the list's order. In a ramp step a pipeline whose run fails leaves <paramref name="running"/> and the result;
    /// otherwise the failure ends the benchmark.
    /// </summary>
    private async Task<List<PipelineResult>> RoundsAsync(
        LoadRunner runner, SystemProbe probe, List<IPipeline> all, List<IPipeline> running, int streams, int rounds, int turn, bool ramp, CancellationToken cancellationToken)
    {
        var tokens = ramp ? settings.RampTokens : settings.Tokens;
        IReadOnlyList<int> servers = [.. all.SelectMany(p => p.ServerProcessIds).Distinct()]; // every pipeline's: all are up
        var runs = running.ToDictionary(p => p.Name, _ => new List<PipelineResult>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var pipeline in Turned(running, turn + round))
            {
                var name = pipeline.Name;
                var of = rounds > 1 ? $", round {round + 1} of {rounds}" : "";
                Console.Error.WriteLine(ramp ? $"{name} ramp: {streams} streams{of}" : $"{name}: {streams} streams × {settings.TokensPerSecond} tokens/s × {tokens} tokens{of}");
                var replayTtl = !ramp && name == "redis" && round == rounds - 1 ? settings.ReplayTtl : (TimeSpan?)null; // waited out once
                await probe.SettleAsync(servers, cancellationToken);
                try
                {
                    runs[name].Add(await runner.RunAsync(
                        pipeline, streams, tokens, settings.TokensPerSecond, replayTtl, cancellationToken, SamplesFile(name, streams, ramp ? "ramp-" : "", rounds, round)));
                }
                catch (Exception ex) when (ramp && (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested))
                {
                    // Overloaded, a pipeline's server may die (its log in .data/bench-logs says why): the step has no
                    // figures, the pipeline leaves the ramp, and the others' steps go on.
                    Console.Error.WriteLine($"  {name}: the {streams}-stream step failed ({ex.GetType().Name}: {ex.Message}); it leaves the ramp");
                    running.Remove(pipeline);
                    runs.Remove(name);
                    continue;
                }

                Summarize(runs[name][^1]);
            }
        }

        List<PipelineResult> pooled = [.. running.Select(p => PipelineResult.Pool(runs[p.Name]))];
        if (rounds > 1 && pooled.Count > 0)
        {
            Console.Error.WriteLine(ramp ? $"pooled, {streams} streams, {rounds} rounds:" : $"pooled, {rounds} rounds:");
            pooled.ForEach(Summarize);
        }

        return pooled;
    }

    /// <summary>The list turned by <paramref name="by"/>: round k starts with the k-th pipeline, so none is always first or last.</summary>
    private static List<IPipeline> Turned(List<IPipeline> pipelines, int by) =>
        pipelines.Count == 0 ? [] : [.. pipelines.Skip(by % pipelines.Count), .. pipelines.Take(by % pipelines.Count)];

    /// <summary>Every pipeline asked for, started one after another (each waits for its servers to be ready), then each warmed up.</summary>
    private async Task<List<IPipeline>> StartAllAsync(LoadRunner runner, int tokens, CancellationToken cancellationToken)
    {
        var pipelines = new List<IPipeline>();
        try
        {
            foreach (var name in settings.Pipelines)
            {
                Console.Error.WriteLine($"starting {name}");
                pipelines.Add(await StartAsync(name, tokens, pipelines, cancellationToken));
            }

            foreach (var pipeline in pipelines)
            {
                await WarmUpAsync(runner, pipeline, tokens, cancellationToken);
            }

            return pipelines;
        }
        catch
        {
            await DisposeAllAsync(pipelines);
            throw;
        }
    }

    private static async Task DisposeAllAsync(List<IPipeline> pipelines)
    {
        foreach (var pipeline in pipelines)
        {
            await pipeline.DisposeAsync();
        }

        pipelines.Clear();
    }

    /// <summary>
    /// Where a measured run writes every delivery (--samples PREFIX): PREFIX-PIPELINE-[ramp-]STREAMS.txt, and
    /// PREFIX-PIPELINE-[ramp-]STREAMS-roundK.txt for round K of several.
    /// </summary>
    private string? SamplesFile(string pipeline, int streams, string step, int rounds, int round) =>
        settings.Samples is not { } prefix ? null
        : string.Create(CultureInfo.InvariantCulture, $"{prefix}-{pipeline}-{step}{streams}{(rounds > 1 ? $"-round{round + 1}" : "")}.txt");

    /// <summary>
    /// Not measured: JIT tiering, connection pools, Redis and Postgres caches. Long enough (seconds of steady load) for
    /// the runtime to finish re-compiling the hot path, which a run of a few hundred chunks does not.
    /// </summary>
    private async Task WarmUpAsync(LoadRunner runner, IPipeline pipeline, int tokens, CancellationToken cancellationToken)
    {
        if (settings.Quick)
        {
            return; // a smoke test: its figures are not compared, and eight pipelines would double its time
        }

        var (streams, length) = (Math.Min(settings.Streams, 100), Math.Min(tokens, 250));
        Console.Error.WriteLine($"  {pipeline.Name} warm-up: {streams} streams × {length} tokens");
        await runner.RunAsync(pipeline, streams, length, settings.TokensPerSecond, null, cancellationToken);
        Console.Error.WriteLine();
    }

    /// <summary>
    /// A pipeline's servers. The product's JSON and MessagePack pipelines are one deployment (every hub serves both
    /// protocols): the second of them shares the first's hubs.
    /// </summary>
    private async Task<IPipeline> StartAsync(string name, int tokens, IReadOnlyList<IPipeline> started, CancellationToken cancellationToken)
    {
        var protocol = name == "redis-msgpack" ? Client.Core.ChatHubProtocol.MessagePack : Client.Core.ChatHubProtocol.Json;
        return name switch
        {
            "redis" or "redis-msgpack" when started.OfType<RedisPipeline>().FirstOrDefault(p => !p.OnRedisCluster) is { } product =>
                await product.Sharing(protocol, cancellationToken),
            "redis" or "redis-msgpack" => await RedisPipeline.StartAsync(settings, tokens, protocol, cancellationToken, postgres: await DatabaseAsync("redis", cancellationToken)),
            "redis-cluster" => await RedisPipeline.StartAsync(
                settings, tokens, protocol, cancellationToken, onRedisCluster: true, postgres: await DatabaseAsync(name, cancellationToken)),
            "signalr-group" => await SignalRGroupPipeline.StartAsync(settings, tokens, cancellationToken),
            "resumable-stream" => await ResumableStreamPipeline.StartAsync(settings, tokens, cancellationToken),
            "raw-websocket" => await RawWebSocketPipeline.StartAsync(settings, tokens, cancellationToken),
            "polling" or "bestpolling" or "notify" => await BaselinePipeline.StartAsync(name, settings, tokens, await DatabaseAsync(name, cancellationToken), cancellationToken),
            _ => throw new ArgumentException($"unknown pipeline '{name}' (redis, redis-msgpack, redis-cluster, signalr-group, resumable-stream, raw-websocket, polling, bestpolling, notify)"),
        };
    }

    /// <summary>A pipeline's own database (<see cref="BenchSettings.PostgresDatabase"/>), emptied: dropped if an earlier run left it, created.</summary>
    private async Task<string> DatabaseAsync(string name, CancellationToken cancellationToken)
    {
        var connectionString = settings.PostgresDatabase(name);
        await RecreateAsync(BenchSettings.DatabaseOf(connectionString), cancellationToken);
        return connectionString;
    }

    private async Task RecreateAsync(string database, CancellationToken cancellationToken)
    {
        await using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(settings.Postgres) { Database = "postgres" }.ConnectionString);
        await admin.OpenAsync(cancellationToken);
        foreach (var sql in new[] { $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", $"CREATE DATABASE \"{database}\"" })
        {
            await using var command = new NpgsqlCommand(sql, admin);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Every run starts from empty databases, as from an empty Redis (FLUSHALL): earlier runs' rows would make the tables
    /// bigger than this run's load, and their unfinished answers (a ramp step that ended while answers still streamed)
    /// would be swept as orphans by this run's hubs. The hubs create their schema (migrations). The run's own database
    /// holds only pg_stat_statements, read for every pipeline's.
    /// </summary>
    private async Task PrepareDatabaseAsync(CancellationToken cancellationToken)
    {
        await RecreateAsync(BenchSettings.DatabaseOf(settings.Postgres), cancellationToken);

        await using var connection = new NpgsqlConnection(settings.Postgres);
        await connection.OpenAsync(cancellationToken);
        await using var extension = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection);
        await extension.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Summarize(PipelineResult r) => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {r.Pipeline}: {r.Streams} streams, {r.Chunks} deliveries; steady ({r.Steady.WindowSeconds:0.#} s) cross-instance p50 {Percentiles.Of(r.Steady.CrossInstance, 50):0.00} ms, p99 {Percentiles.Of(r.Steady.CrossInstance, 99):0.00} ms, same-instance p50 {Percentiles.Of(r.Steady.SameInstance, 50):0.00} ms, p99 {Percentiles.Of(r.Steady.SameInstance, 99):0.00} ms; whole run p50 {r.P(50):0.00} ms, p99 {r.P(99):0.00} ms, max {r.Max:0.0} ms; write p50 {r.Server.WriteP50:0.00} ms; lost {r.Lost}, dup {r.Duplicated}, unfinished {r.UnfinishedStreams}; db {r.DbStatementsPerSecond:0.#}/s; CPU per delivery: hubs {r.CpuMicrosecondsPerChunk("hubs"):0} µs, redis {r.CpuMicrosecondsPerChunk("redis"):0} µs, client {r.CpuMicrosecondsPerChunk("client"):0} µs{SteadyCpu(r)}"));

    private static string SteadyCpu(PipelineResult r) => r.Steady.CpuMicrosecondsPerChunk is not { } cpu ? ""
        : string.Create(CultureInfo.InvariantCulture, $" (steady window: hubs {cpu["hubs"]:0} µs, redis {cpu["redis"]:0} µs, client {cpu["client"]:0} µs)");

    private static async Task<Dictionary<string, string>> MachineAsync(IConnectionMultiplexer redis, NpgsqlDataSource postgres)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(':')[1].Trim();
        var os = File.Exists("/etc/os-release") ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') ?? "?" : "?";
        await using var version = postgres.CreateCommand("SHOW server_version");
        return new Dictionary<string, string>
        {
            ["cpu"] = $"{cpu} × {Environment.ProcessorCount}",
            ["memory"] = memory,
            ["os"] = os,
            [".NET"] = Environment.Version.ToString(),
            ["Redis"] = redis.GetServers()[0].Version.ToString(),
            ["Postgres"] = (string)(await version.ExecuteScalarAsync())!,
        };
    }

    private static async Task WriteAsync(string? path, string content, CancellationToken cancellationToken)
    {
        if (path is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, content, cancellationToken);
        }
    }
}
