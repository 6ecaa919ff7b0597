using System.Globalization;
using ChatStreaming.Bench.Load;
using ChatStreaming.Bench.Report;
using Npgsql;
using StackExchange.Redis;

namespace ChatStreaming.Bench;

/// <summary>Runs the pipelines one after another on the same machine, then the ramps, then writes the reports.</summary>
internal sealed class BenchRun(BenchSettings settings)
{
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
        foreach (var name in settings.Pipelines)
        {
            Console.Error.WriteLine($"{name}: {settings.Streams} streams × {settings.TokensPerSecond} tokens/s × {settings.Tokens} tokens");
            await using (var pipeline = await StartAsync(name, settings.Tokens, cancellationToken))
            {
                await WarmUpAsync(runner, pipeline, settings.Tokens, cancellationToken);
                results.Add(await runner.RunAsync(
                    pipeline, settings.Streams, settings.Tokens, settings.TokensPerSecond, name == "redis" ? settings.ReplayTtl : null, cancellationToken, SamplesFile(name, settings.Streams)));
            }

            Summarize(results[^1]);
            if (settings.Ramp.Count > 0)
            {
                var steps = new List<PipelineResult>();
                await using var pipeline = await StartAsync(name, settings.RampTokens, cancellationToken);
                await WarmUpAsync(runner, pipeline, settings.RampTokens, cancellationToken);
                foreach (var n in settings.Ramp)
                {
                    Console.Error.WriteLine($"{name} ramp: {n} streams");
                    var step = await runner.RunAsync(pipeline, n, settings.RampTokens, settings.TokensPerSecond, null, cancellationToken, SamplesFile(name, n, "ramp-"));
                    steps.Add(step);
                    Summarize(step);
                    if (step.Lost + step.UnfinishedStreams > 0 || step.H(99) > 20 * RunReport.SloP99Milliseconds)
                    {
                        break; // losing, or 20× over the SLO: larger steps only take longer to say the same
                    }
                }

                ramps[name] = steps;
            }
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

    /// <summary>Where a measured run writes every delivery (--samples PREFIX): PREFIX-PIPELINE-[ramp-]STREAMS.txt.</summary>
    private string? SamplesFile(string pipeline, int streams, string step = "") =>
        settings.Samples is { } prefix ? string.Create(CultureInfo.InvariantCulture, $"{prefix}-{pipeline}-{step}{streams}.txt") : null;

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
        Console.Error.WriteLine($"  warm-up: {streams} streams × {length} tokens");
        await runner.RunAsync(pipeline, streams, length, settings.TokensPerSecond, null, cancellationToken);
        Console.Error.WriteLine();
    }

    private async Task<IPipeline> StartAsync(string name, int tokens, CancellationToken cancellationToken) => name switch
    {
        "redis" => await RedisPipeline.StartAsync(settings, tokens, Client.Core.ChatHubProtocol.Json, cancellationToken),
        "redis-msgpack" => await RedisPipeline.StartAsync(settings, tokens, Client.Core.ChatHubProtocol.MessagePack, cancellationToken),
        "redis-cluster" => await RedisPipeline.StartAsync(settings, tokens, Client.Core.ChatHubProtocol.Json, cancellationToken, onRedisCluster: true),
        "signalr-group" => await SignalRGroupPipeline.StartAsync(settings, tokens, cancellationToken),
        "resumable-stream" => await ResumableStreamPipeline.StartAsync(settings, tokens, cancellationToken),
        "raw-websocket" => await RawWebSocketPipeline.StartAsync(settings, tokens, cancellationToken),
        "polling" or "bestpolling" or "notify" => await BaselinePipeline.StartAsync(name, settings, tokens, cancellationToken),
        _ => throw new ArgumentException($"unknown pipeline '{name}' (redis, redis-msgpack, redis-cluster, signalr-group, resumable-stream, raw-websocket, polling, bestpolling, notify)"),
    };

    private async Task PrepareDatabaseAsync(CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(settings.Postgres);
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(settings.Postgres) { Database = "postgres" }.ConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            // Every run starts from an empty database, as from an empty Redis (FLUSHALL): earlier runs' rows would make
            // the tables bigger than this run's load, and their unfinished answers (a ramp step that ended while answers
            // still streamed) would be swept as orphans by this run's hubs. The hubs create the schema (migrations).
            foreach (var sql in new[] { $"DROP DATABASE IF EXISTS \"{target.Database}\" WITH (FORCE)", $"CREATE DATABASE \"{target.Database}\"" })
            {
                await using var command = new NpgsqlCommand(sql, admin);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }

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
