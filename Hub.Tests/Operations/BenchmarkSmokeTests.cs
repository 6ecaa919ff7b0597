using System.Diagnostics;
using System.Text.Json;
using ChatStreaming.Bench.Load;
using Npgsql;

namespace ChatStreaming.Hub.Tests.Operations;

/// <summary>The benchmark's --quick mode, so it never rots: every pipeline (the product, its peers, the database baselines) runs, none loses anything.</summary>
[Collection(OutageCollection.Name)]
public sealed class BenchmarkSmokeTests(ChatCluster cluster)
{
    private static readonly string[] Pipelines = ["redis", "redisMsgpack", "signalrGroup", "resumableStream", "rawWebsocket", "polling", "bestPolling", "notify"];

    /// <summary>The product and its peers: a client on the producing instance and one on the other, the same fields.</summary>
    private static readonly string[] TwoInstancePipelines = ["redis", "redisMsgpack", "signalrGroup", "resumableStream", "rawWebsocket"];

    /// <summary>
    /// The benchmark and every server it starts (they inherit it) compile tiered, as the test hubs do: the measured
    /// runs' settings (no tiered compilation, Hub.csproj and Bench.csproj) pay for long runs, and a smoke run is seconds.
    /// </summary>
    internal static readonly Dictionary<string, string> QuickStart = new() { ["DOTNET_TieredCompilation"] = "1" };

    [Fact]
    public async Task QuickBenchmarkRunsEveryPipelineAndTheProductLosesNothingOnEitherInstance()
    {
        var json = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.json");
        var samples = Path.Combine(Path.GetTempPath(), $"bench-samples-{Guid.NewGuid():N}");
        // What an earlier run left in its databases (its own, and the product's beside it): a run starts from empty ones.
        foreach (var database in new[] { "bench", "bench_redis" })
        {
            await ExecuteAsync("postgres", $"CREATE DATABASE {database}");
            await ExecuteAsync(database, "CREATE TABLE left_by_an_earlier_run (id int)");
        }

        // Two rounds: every pipeline runs twice, interleaved with the others, and its figures pool both.
        await using var bench = ChildProcess.Start("dotnet", [
            BuildOutput.Assembly("Bench", "ChatStreaming.Bench.dll"), "run", "--quick", "--rounds", "2", "--json", json, "--samples", samples,
            "--redis", cluster.Redis.ConnectionString,
            "--postgres", cluster.Postgres.ConnectionString("bench"),
            "--postgres-data", cluster.Postgres.DataDirectory], QuickStart);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6)); // ≈ 1.5 min idle; a busy machine took over 3
        await bench.WaitForExitAsync(timeout.Token);

        Assert.True(bench.ExitCode == 0, string.Join('\n', bench.Output.TakeLast(30)));
        foreach (var database in new[] { "bench", "bench_redis" })
        {
            Assert.False((bool)(await ExecuteAsync(database, "SELECT to_regclass('left_by_an_earlier_run') IS NOT NULL"))!, database);
        }

        // Interleaved: every pipeline's first round runs before any second round, and the second round starts one
        // pipeline later in the list (the headers: "NAME: 20 streams × … tokens, round K of 2").
        var headers = bench.Output.Where(l => l.Contains(" tokens, round ", StringComparison.Ordinal)).ToList();
        List<string> Round(int k) => [.. headers.Where(l => l.EndsWith($"round {k} of 2", StringComparison.Ordinal)).Select(l => l.Trim()[..l.Trim().IndexOf(':')])];
        var (first, second) = (Round(1), Round(2));
        Assert.Equal(Pipelines.Length, first.Count);
        Assert.True(headers.FindLastIndex(l => l.EndsWith("round 1 of 2", StringComparison.Ordinal)) < headers.FindIndex(l => l.EndsWith("round 2 of 2", StringComparison.Ordinal)));
        Assert.Equal([.. first.Skip(1), first[0]], second);

        var pipelines = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement.GetProperty("pipelines");
        foreach (var name in Pipelines)
        {
            var p = pipelines.GetProperty(name);
            Assert.True(p.GetProperty("latencyMs").GetProperty("p50").GetDouble() > 0, name);
            // resumable-stream's resume gives up when the producing instance has not answered within 1 s ("Timeout
            // waiting for ack", its dist/runtime.js): on a starved machine (a busy-core suite run) a watcher lost most of a
            // stream. That is the package's figure to report, not the harness's error; every other pipeline loses nothing.
            Assert.True(p.GetProperty("lost").GetInt64() == 0 || name == "resumableStream", $"{name} lost {p.GetProperty("lost").GetInt64()}");
            Assert.True(p.GetProperty("duplicated").GetInt64() == 0, $"{name} duplicated {p.GetProperty("duplicated").GetInt64()}");

            // CPU is time used: a group's never shrinks (a Postgres backend that exits during a run does not take its time out).
            Assert.All(p.GetProperty("cpuPercent").EnumerateObject(), c => Assert.True(c.Value.GetDouble() >= 0, $"{name} {c.Name} {c.Value}"));

            // Pooled: the two rounds' deliveries together, each round's own figures beside them.
            var rounds = p.GetProperty("rounds").EnumerateArray().ToList();
            Assert.Equal(2, rounds.Count);
            Assert.Equal(p.GetProperty("chunks").GetInt64(), rounds.Sum(r => r.GetProperty("chunks").GetInt64()));
            Assert.All(rounds, r => Assert.True(r.GetProperty("chunks").GetInt64() > 0 && r.GetProperty("p50").GetDouble() > 0, name));
        }

        var steadyCpuFigures = 0; // pipelines with a steady window whose servers' CPU in it was reported
        var steadyWindows = 0;
        foreach (var name in TwoInstancePipelines)
        {
            var p = pipelines.GetProperty(name);
            foreach (var side in new[] { "crossInstance", "sameInstance" })
            {
                // Each stream: a client on the producing instance, one on the other; both counted.
                Assert.True(p.GetProperty(side).GetProperty("latencyMs").GetProperty("p99").GetDouble() > 0, $"{name} {side}");
                Assert.True(p.GetProperty(side).GetProperty("deliveries").GetInt64() > 0, $"{name} {side}");
            }

            Assert.True(p.GetProperty("cpuMicrosecondsPerChunk").GetProperty("hubs").GetDouble() > 0, name);
            Assert.True(p.GetProperty("unfinishedStreams").GetInt32() == 0 || name == "resumableStream", $"{name}: unfinished streams"); // its lost resumes (above)

            // Per token: the quick run's 20 streams × 150 tokens, each to two clients, twice; a chunk carries one token or more.
            Assert.Equal(2 * 20 * 150 * 2, p.GetProperty("tokenDeliveries").GetInt64());
            Assert.InRange(p.GetProperty("chunks").GetInt64(), 1, p.GetProperty("tokenDeliveries").GetInt64());
            Assert.True(p.GetProperty("cpuMicrosecondsPerToken").GetProperty("hubs").GetDouble() > 0, name);

            // How long the streams took to start, and the servers' CPU while all of them ran: none without a steady
            // window (a busy machine may start the quick run's short answers too slowly to have one, or probe one
            // pipeline's window too rarely), else what the servers spent.
            Assert.True(p.GetProperty("startSeconds").GetDouble() > 0, name);
            var steadyCpu = p.GetProperty("steadyCpuMicrosecondsPerChunk");
            if (p.GetProperty("steadyWindowSeconds").GetDouble() == 0)
            {
                Assert.Equal(JsonValueKind.Null, steadyCpu.ValueKind);
                continue;
            }

            steadyWindows++;
            if (steadyCpu.ValueKind != JsonValueKind.Null)
            {
                Assert.True(steadyCpu.GetProperty("hubs").GetDouble() > 0, name);
                steadyCpuFigures++;
            }
        }

        // Probed every 250 ms, a window of a second or more has its figure: one pipeline may miss it, not all of them.
        Assert.True(steadyWindows == 0 || steadyCpuFigures > 0, $"{steadyWindows} steady windows, none with the servers' CPU in it");

        var redis = pipelines.GetProperty("redis");

        Assert.True(redis.GetProperty("crossInstance").GetProperty("deliveries").GetInt64() + redis.GetProperty("sameInstance").GetProperty("deliveries").GetInt64()
            <= redis.GetProperty("chunks").GetInt64()); // the steady window is part of the run (here, with answers of 1 s, all of it)
        foreach (var processes in new[] { "hubs", "redis", "client" })
        {
            Assert.True(redis.GetProperty("cpuMicrosecondsPerChunk").GetProperty(processes).GetDouble() > 0, processes);
        }

        Assert.True(pipelines.GetProperty("polling").GetProperty("emptyPollShare").GetDouble() >= 0);
        Assert.True(pipelines.GetProperty("polling").GetProperty("dbStatementsPerSecond").GetDouble() > pipelines.GetProperty("redis").GetProperty("dbStatementsPerSecond").GetDouble());

        // --samples: per round, the steady window, then every delivery of the round, one line each.
        var lines = await File.ReadAllLinesAsync($"{samples}-redis-20-round1.txt");
        Assert.StartsWith("# steady ", lines[0], StringComparison.Ordinal);
        Assert.Equal(redis.GetProperty("rounds")[0].GetProperty("chunks").GetInt64(), lines.Length - 1);
        Assert.All(lines.Skip(1), line => Assert.Matches(@"^(cross|same) [0-9.]+ -?[0-9.]+$", line));
        File.Delete(json);
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), $"{Path.GetFileName(samples)}-*"))
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// One statement, on a connection of its own: the run drops the database under any pooled one, and a pooled one may
    /// be left over from before another test of this collection restarted Postgres.
    /// </summary>
    private async Task<object?> ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cluster.Postgres.ConnectionString(database)) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}

/// <summary>
/// <c>./bench.sh --cluster</c>'s pipeline, quick: the product on a Redis Cluster loses nothing, and the per-node figures
/// show a chunk's publish reaching its own shard only. With a one-step ramp run twice (<c>--ramp-rounds</c>), pooled.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterBenchmarkSmokeTests(ChatOnRedisCluster cluster)
{
    [Fact]
    public async Task QuickBenchmarkOnTheClusterReportsEveryNodeAndEachChunkReachesOneShard()
    {
        var json = Path.Combine(Path.GetTempPath(), $"bench-cluster-{Guid.NewGuid():N}.json");
        var nodes = cluster.RedisCluster!.ConnectionString;
        await using var bench = ChildProcess.Start("dotnet", [
            BuildOutput.Assembly("Bench", "ChatStreaming.Bench.dll"), "run", "--quick", "--json", json, "--pipelines", "redis-cluster",
            "--ramp", "10", "--ramp-rounds", "2", "--redis", nodes, "--redis-cluster", nodes, "--postgres", cluster.Postgres.ConnectionString("bench_cluster")], BenchmarkSmokeTests.QuickStart);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6)); // ≈ 1.5 min idle; a busy machine took over 3
        await bench.WaitForExitAsync(timeout.Token);

        Assert.True(bench.ExitCode == 0, string.Join('\n', bench.Output.TakeLast(30)));
        var p = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement.GetProperty("pipelines").GetProperty("redisCluster");
        Assert.Equal((0, 0, 0), (p.GetProperty("lost").GetInt64(), p.GetProperty("duplicated").GetInt64(), p.GetProperty("unfinishedStreams").GetInt32()));
        Assert.True(p.GetProperty("crossInstance").GetProperty("deliveries").GetInt64() > 0);
        Assert.True(p.GetProperty("redisCpuMicrosecondsPerChunkWritten").GetDouble() > 0);
        var redisNodes = p.GetProperty("redisNodes").EnumerateArray().ToArray();
        Assert.Equal(6, redisNodes.Length);
        var masters = redisNodes.Where(n => n.GetProperty("role").GetString() == "master").ToArray();
        Assert.Equal(3, masters.Length);
        var published = masters.Sum(n => n.GetProperty("shardedPublishes").GetInt64());
        Assert.True(published >= p.GetProperty("chunkWriteMs").GetProperty("count").GetInt64(), "every chunk written is an SPUBLISH on its master");
        Assert.All(masters, m => Assert.True(m.GetProperty("scripts").GetInt64() > 0, $"{m.GetProperty("endPoint")} ran no script: the conversations did not spread"));
        // Sharded: each SPUBLISH reaches its shard's one replica over the bus, not the five other nodes.
        Assert.InRange(redisNodes.Sum(n => n.GetProperty("busShardedPublishesReceived").GetInt64()), 1, published);
        Assert.All(masters, m => Assert.Equal(0, m.GetProperty("busShardedPublishesReceived").GetInt64()));

        // The ramp's one step, run twice and pooled: every delivery of both rounds, nothing lost in either.
        var step = Assert.Single(p.GetProperty("ramp").EnumerateArray().ToArray());
        Assert.Equal(10, step.GetProperty("streams").GetInt32());
        var rounds = step.GetProperty("rounds").EnumerateArray().ToArray();
        Assert.Equal(2, rounds.Length);
        Assert.Equal(step.GetProperty("chunks").GetInt64(), rounds.Sum(r => r.GetProperty("chunks").GetInt64()));
        Assert.All(rounds, r => Assert.True(r.GetProperty("chunks").GetInt64() > 0 && r.GetProperty("lost").GetInt64() == 0 && r.GetProperty("duplicated").GetInt64() == 0));
        Assert.Equal(["redis-cluster ramp: 10 streams, round 1 of 2", "redis-cluster ramp: 10 streams, round 2 of 2"],
            bench.Output.Where(l => l.Contains(" ramp: ", StringComparison.Ordinal)));
        File.Delete(json);
    }
}

/// <summary>The benchmark's <c>protocols</c> command (no servers): it times writing a chunk event with each hub protocol.</summary>
public sealed class ProtocolCostSmokeTests
{
    [Fact]
    public async Task TheProtocolsCommandTimesWritingAChunkEventWithEachHubProtocol()
    {
        await using var bench = ChildProcess.Start("dotnet", [BuildOutput.Assembly("Bench", "ChatStreaming.Bench.dll"), "protocols", "--events", "2000"], BenchmarkSmokeTests.QuickStart);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await bench.WaitForExitAsync(timeout.Token);

        Assert.True(bench.ExitCode == 0, string.Join('\n', bench.Output.TakeLast(30)));
        foreach (var protocol in new[] { "json", "messagepack" })
        {
            var rounds = bench.Output.Where(l => l.Contains($" {protocol} ", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, rounds.Count);
            Assert.All(rounds, l => Assert.Matches(@"\s[1-9][0-9]* bytes per ReceiveChunk frame\s+[0-9.]+ µs per event$", l));
        }
    }
}

/// <summary>
/// A pipeline whose servers die in the middle of a ramp leaves the ramp: its earlier steps stay in the report, the other
/// pipelines' steps go on, and the run ends normally (an overloaded server can die; the published runs keep going).
/// </summary>
[Collection(OutageCollection.Name)]
public sealed class BenchmarkRampFailureTests(ChatCluster cluster)
{
    [Fact]
    public async Task APipelineWhoseHubsDieMidRampLeavesTheRampAndTheOthersGoOn()
    {
        var json = Path.Combine(Path.GetTempPath(), $"bench-ramp-{Guid.NewGuid():N}.json");
        await using var bench = ChildProcess.Start("dotnet", [
            BuildOutput.Assembly("Bench", "ChatStreaming.Bench.dll"), "run", "--quick", "--json", json, "--pipelines", "redis,raw-websocket",
            "--ramp", "10,20", "--redis", cluster.Redis.ConnectionString, "--postgres", cluster.Postgres.ConnectionString("bench_ramp"),
            "--postgres-data", cluster.Postgres.DataDirectory], BenchmarkSmokeTests.QuickStart);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));

        // The product's 20-stream step is announced, then the run waits at least a second for the machine to settle:
        // its two hubs are killed in between, so the step starts on dead hubs.
        await Wait.UntilAsync(() => bench.HasExited || bench.Output.Any(l => l.Contains("redis ramp: 20 streams", StringComparison.Ordinal)),
            TimeSpan.FromMinutes(5), "the product's 20-stream step never started");
        Assert.False(bench.HasExited, string.Join('\n', bench.Output.TakeLast(30)));
        var hubs = HubsStartedBy(bench.Id);
        Assert.Equal(2, hubs.Count);
        hubs.ForEach(hub => hub.Kill());
        await bench.WaitForExitAsync(timeout.Token);

        Assert.True(bench.ExitCode == 0, string.Join('\n', bench.Output.TakeLast(30)));
        Assert.Contains(bench.Output, l => l.Contains("redis: the 20-stream step failed", StringComparison.Ordinal) && l.EndsWith("it leaves the ramp", StringComparison.Ordinal));
        var pipelines = JsonDocument.Parse(await File.ReadAllTextAsync(json)).RootElement.GetProperty("pipelines");
        int[] Steps(string name) => [.. pipelines.GetProperty(name).GetProperty("ramp").EnumerateArray().Select(s => s.GetProperty("streams").GetInt32())];
        Assert.Equal([10], Steps("redis"));
        Assert.Equal([10, 20], Steps("rawWebsocket"));
        Assert.All(pipelines.GetProperty("rawWebsocket").GetProperty("ramp").EnumerateArray(), s => Assert.Equal(0, s.GetProperty("lost").GetInt64()));
        File.Delete(json);
    }

    /// <summary>The product's hubs among the benchmark's own child processes.</summary>
    private static List<Process> HubsStartedBy(int parent) =>
        [.. SystemProbe.ChildrenOf(parent)
            .Where(pid => File.ReadAllText($"/proc/{pid}/cmdline").Contains("ChatStreaming.Hub.dll", StringComparison.Ordinal))
            .Select(Process.GetProcessById)];
}
