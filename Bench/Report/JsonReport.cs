using System.Text.Json;
using System.Text.Json.Nodes;
using ChatStreaming.Bench.Load;

namespace ChatStreaming.Bench.Report;

/// <summary>
/// Every figure, for machines: pipelines.&lt;name&gt;.latencyMs.{p50,p95,p99,max} (every delivery of the run),
/// .crossInstance/.sameInstance.latencyMs (the steady window), .cpuMicrosecondsPerChunk.{hubs,redis,postgres,client}, …
/// </summary>
internal static class JsonReport
{
    public static string Write(RunReport report)
    {
        var pipelines = new JsonObject();
        foreach (var result in report.Results)
        {
            pipelines[Key(result.Pipeline)] = new JsonObject
            {
                ["streams"] = result.Streams,
                ["durationSeconds"] = Round(result.DurationSeconds),
                ["startSeconds"] = Round(result.StartSeconds),
                ["chunks"] = result.Chunks,
                ["latencyMs"] = new JsonObject { ["p50"] = Round(result.P(50)), ["p95"] = Round(result.P(95)), ["p99"] = Round(result.P(99)), ["max"] = Round(result.Max) },
                ["steadyWindowSeconds"] = Round(result.Steady.WindowSeconds),
                ["crossInstance"] = Latencies(result.Steady.CrossInstance),
                ["sameInstance"] = Latencies(result.Steady.SameInstance),
                ["steadyLatencyMs"] = Latencies(result.Steady.All)?["latencyMs"]?.DeepClone(),
                ["chunkWriteMs"] = new JsonObject { ["p50"] = Round(result.Server.WriteP50), ["p99"] = Round(result.Server.WriteP99), ["count"] = result.Server.Writes },
                ["stagesP50Ms"] = double.IsNaN(result.Server.ProducedToRedisP50) ? null : new JsonObject
                {
                    ["inRedisAndLocalClients"] = Round(result.Server.ProducedToRedisP50),
                    ["atOtherHub"] = Round(result.Server.ProducedToOtherHubP50),
                    ["atOtherHubsClient"] = Round(result.H(50)),
                },
                ["lost"] = result.Lost,
                ["duplicated"] = result.Duplicated,
                ["unfinishedStreams"] = result.UnfinishedStreams,
                ["dbStatements"] = result.DbStatements,
                ["dbStatementsPerSecond"] = Round(result.DbStatementsPerSecond),
                ["polls"] = result.Server.Polls,
                ["emptyPollShare"] = Round(result.EmptyPollShare),
                ["cpuPercent"] = new JsonObject(result.CpuPercent.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)Round(c.Value)))),
                ["cpuMicrosecondsPerChunk"] = new JsonObject(result.CpuPercent.Keys.Select(k => KeyValuePair.Create(k, (JsonNode?)Round(result.CpuMicrosecondsPerChunk(k))))),
                ["steadyCpuMicrosecondsPerChunk"] = SteadyCpu(result),
                ["tokenDeliveries"] = result.TokenDeliveries,
                ["cpuMicrosecondsPerToken"] = new JsonObject(result.CpuPercent.Keys.Select(k => KeyValuePair.Create(k, (JsonNode?)Round(result.CpuMicrosecondsPerToken(k))))),
                ["redisMemoryBytes"] = new JsonObject { ["baseline"] = result.RedisBaselineBytes, ["peak"] = result.RedisPeakBytes, ["afterTtl"] = result.RedisAfterTtlBytes },
                ["redisMemoryBytesPerStream"] = Round(result.RedisBytesPerStream),
                ["redisCpuMicrosecondsPerChunkWritten"] = Round(result.RedisCpuMicrosecondsPerChunkWritten),
                ["redisNodes"] = result.RedisNodes is null ? null : new JsonArray([.. result.RedisNodes.Select(n => (JsonNode)new JsonObject
                {
                    ["endPoint"] = n.EndPoint, ["role"] = n.Role,
                    ["cpuMicrosecondsPerChunkWritten"] = Round(result.Server.Writes == 0 ? double.NaN : n.CpuSeconds * 1e6 / result.Server.Writes),
                    ["scripts"] = n.Scripts, ["shardedPublishes"] = n.ShardedPublishes, ["publishes"] = n.Publishes,
                    ["busPublishesReceived"] = n.BusPublishesReceived, ["busShardedPublishesReceived"] = n.BusShardedPublishesReceived,
                })]),
                ["rounds"] = RoundsOf(result),
                ["maxStreamsWithinSlo"] = report.MaxStreamsWithinSlo(result.Pipeline),
                ["ramp"] = new JsonArray([.. (report.Ramps.GetValueOrDefault(result.Pipeline) ?? []).Select(s => (JsonNode)new JsonObject
                {
                    ["streams"] = s.Streams, ["p50"] = Round(s.H(50)), ["p99"] = Round(s.H(99)), ["wholeRunP50"] = Round(s.P(50)), ["wholeRunP99"] = Round(s.P(99)),
                    ["lost"] = s.Lost, ["duplicated"] = s.Duplicated,
                    ["cpuMicrosecondsPerChunk"] = new JsonObject(s.CpuPercent.Keys.Select(k => KeyValuePair.Create(k, (JsonNode?)Round(s.CpuMicrosecondsPerChunk(k))))),
                    ["chunks"] = s.Chunks, ["tokenDeliveries"] = s.TokenDeliveries, ["steadyWindowSeconds"] = Round(s.Steady.WindowSeconds),
                    ["startSeconds"] = Round(s.StartSeconds),
                    ["steadyCpuMicrosecondsPerChunk"] = SteadyCpu(s),
                    ["cpuMicrosecondsPerToken"] = new JsonObject(s.CpuPercent.Keys.Select(k => KeyValuePair.Create(k, (JsonNode?)Round(s.CpuMicrosecondsPerToken(k))))),
                    ["unfinishedStreams"] = s.UnfinishedStreams, ["withinSlo"] = s.WithinSlo(RunReport.SloP99Milliseconds),
                    ["rounds"] = RoundsOf(s),
                })]),
            };
        }

        var root = new JsonObject
        {
            ["date"] = report.Date.ToString("O"),
            ["command"] = report.Command,
            ["machine"] = new JsonObject(report.Machine.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))),
            ["load"] = new JsonObject
            {
                ["streams"] = report.Settings.Streams, ["tokensPerSecond"] = report.Settings.TokensPerSecond, ["tokens"] = report.Settings.Tokens,
                ["pollIntervalMs"] = report.Settings.PollInterval.TotalMilliseconds, ["sloP99Ms"] = RunReport.SloP99Milliseconds,
            },
            ["pipelines"] = pipelines,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static double? Round(double value) => double.IsNaN(value) ? null : Math.Round(value, 3);

    /// <summary>Each round a pooled result is made of (one, itself, when it was run once).</summary>
    private static JsonArray RoundsOf(PipelineResult result) => new([.. result.Rounds.Select(r => (JsonNode)new JsonObject
    {
        ["p50"] = Round(r.H(50)), ["p99"] = Round(r.H(99)), ["chunks"] = r.Chunks, ["durationSeconds"] = Round(r.DurationSeconds),
        ["cpuMicrosecondsPerChunk"] = new JsonObject(r.CpuPercent.Keys.Select(k => KeyValuePair.Create(k, (JsonNode?)Round(r.CpuMicrosecondsPerChunk(k))))),
        ["lost"] = r.Lost, ["duplicated"] = r.Duplicated,
    })]);

    /// <summary>CPU per delivery while every stream ran (no window, no figure).</summary>
    private static JsonObject? SteadyCpu(PipelineResult result) => result.Steady.CpuMicrosecondsPerChunk is not { } cpu ? null
        : new JsonObject(cpu.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)Round(c.Value))));

    /// <summary>The JSON name of a pipeline: its CLI name, camel-cased where it has two words (bestPolling, redisMsgpack, signalrGroup…).</summary>
    public static string Key(string pipeline) => pipeline == "bestpolling"
        ? "bestPolling"
        : string.Concat(pipeline.Split('-').Select((word, i) => i == 0 ? word : char.ToUpperInvariant(word[0]) + word[1..]));

    private static JsonObject? Latencies(double[] sorted) => sorted.Length == 0 ? null : new JsonObject
    {
        ["latencyMs"] = new JsonObject
        {
            ["p50"] = Round(Percentiles.Of(sorted, 50)), ["p95"] = Round(Percentiles.Of(sorted, 95)),
            ["p99"] = Round(Percentiles.Of(sorted, 99)), ["max"] = Round(sorted[^1]),
        },
        ["deliveries"] = sorted.Length,
    };
}
