using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using ChatStreaming.Bench;
using ChatStreaming.Bench.Baseline;

// ./bench.sh [options]  — starts Redis and Postgres, then: ChatStreaming.Bench run --redis … --postgres … [options]
// (the product, its peers and the database baselines, interleaved: BenchRun)
var streams = new Option<int>("--streams") { Description = "Concurrent streams", DefaultValueFactory = _ => 100 };
var tokensPerSecond = new Option<double>("--tokens-per-second") { Description = "Pace of each simulated answer", DefaultValueFactory = _ => 50 };
var tokens = new Option<int>("--tokens") { Description = "Tokens per answer (500 at 50 tokens/s: a 10 s answer, so the steady window is most of it)", DefaultValueFactory = _ => 500 };
var ramp = new Option<string?>("--ramp") { Description = "Stream counts to try per pipeline, e.g. 50,100,200,500,1000" };
var rampTokens = new Option<int>("--ramp-tokens") { Description = "Tokens per answer in each ramp step", DefaultValueFactory = _ => 500 };
var pollInterval = new Option<int>("--poll-interval") { Description = "Polling baseline: milliseconds between polls", DefaultValueFactory = _ => 100 };
var pipelines = new Option<string>("--pipelines") { Description = "Which pipelines, in order", DefaultValueFactory = _ => "redis,redis-msgpack,signalr-group,resumable-stream,raw-websocket,polling,bestpolling,notify" };
var quick = new Option<bool>("--quick") { Description = "A few seconds per pipeline (smoke test): 20 streams × 150 tokens (3-s answers: resumable-stream cannot resume an ended stream, and a starved machine attaches late), no warm-up, no ramp unless --ramp is given (its steps 150 tokens too), no report files unless asked" };
var json = new Option<string?>("--json") { Description = "Write every figure as JSON to this file" };
var markdown = new Option<string?>("--markdown") { Description = "Markdown report (default docs/benchmarks.md; none with --quick)" };
var chart = new Option<string?>("--chart") { Description = "SVG chart (default docs/benchmarks.svg; none with --quick)" };
var redis = new Option<string>("--redis") { Description = "Redis of the run", Required = true };
var redisCluster = new Option<string?>("--redis-cluster") { Description = "A Redis Cluster's nodes (./bench.sh --cluster): adds the redis-cluster pipeline after redis" };
var postgres = new Option<string>("--postgres") { Description = "Postgres of the run (pg_stat_statements loaded)", Required = true };
var postgresData = new Option<string?>("--postgres-data") { Description = "Its data directory, to find its processes for CPU" };
var replayTtl = new Option<TimeSpan?>("--replay-ttl") { Description = "Chat:ReplayTtl of the hubs; the run waits it out to measure Redis memory after it", CustomParser = r => TimeSpan.Parse(r.Tokens.Single().Value, CultureInfo.InvariantCulture) };
var samples = new Option<string?>("--samples") { Description = "Write every delivery of each measured run (emitted at, latency) to PREFIX-PIPELINE-STREAMS.txt, PREFIX-PIPELINE-STREAMS-roundK.txt with several rounds, PREFIX-PIPELINE-ramp-STREAMS[-roundK].txt (scripts/gc-tail.sh reads them)" };
var rounds = new Option<int?>("--rounds") { Description = "Measured runs per pipeline at --streams, interleaved (round k runs every pipeline once, starting with the k-th) and pooled: the machine's drift falls on all of them. Default 3; 1 with --quick" };
rounds.Validators.Add(AtLeastOne);
var rampRounds = new Option<int>("--ramp-rounds") { Description = "Runs per pipeline at each ramp step, interleaved like --rounds and pooled (near a pipeline's knee one run's p99 swings from run to run)", DefaultValueFactory = _ => 1 };
rampRounds.Validators.Add(AtLeastOne);
var command = new Option<string>("--command") { Description = "The command line to record in the report", DefaultValueFactory = _ => "ChatStreaming.Bench run" };

var run = new Command("run", "Run the pipelines and write the report") { streams, tokensPerSecond, tokens, ramp, rampTokens, pollInterval, pipelines, quick, json, markdown, chart, redis, redisCluster, postgres, postgresData, replayTtl, samples, rounds, rampRounds, command };
run.SetAction((p, ct) => new BenchRun(p.GetValue(quick)
        ? new(20, p.GetValue(tokensPerSecond), 150, TimeSpan.FromMilliseconds(p.GetValue(pollInterval)), p.GetValue(redis)!, p.GetValue(postgres)!, p.GetValue(postgresData),
            p.GetValue(replayTtl) ?? TimeSpan.FromSeconds(3), StepsOf(p.GetValue(ramp)), 150, true, PipelinesOf(p.GetValue(pipelines)!, p.GetValue(redisCluster)), p.GetValue(redisCluster), p.GetValue(samples),
            p.GetValue(rounds) ?? 1, p.GetValue(rampRounds))
        : new(p.GetValue(streams), p.GetValue(tokensPerSecond), p.GetValue(tokens), TimeSpan.FromMilliseconds(p.GetValue(pollInterval)), p.GetValue(redis)!, p.GetValue(postgres)!,
            p.GetValue(postgresData), p.GetValue(replayTtl) ?? TimeSpan.FromSeconds(20),
            StepsOf(p.GetValue(ramp)), p.GetValue(rampTokens), false, PipelinesOf(p.GetValue(pipelines)!, p.GetValue(redisCluster)), p.GetValue(redisCluster), p.GetValue(samples),
            p.GetValue(rounds) ?? 3, p.GetValue(rampRounds)))
    .RunAsync(p.GetValue(command)!, p.GetValue(json), p.GetValue(markdown) ?? (p.GetValue(quick) ? null : "docs/benchmarks.md"), p.GetValue(chart) ?? (p.GetValue(quick) ? null : "docs/benchmarks.svg"), ct));

var mode = new Option<string>("--mode") { Description = "polling, bestpolling or notify", Required = true };
mode.AcceptOnlyFromAmong("polling", "bestpolling", "notify");
var urls = new Option<string>("--urls") { Required = true };
var baseline = new Command("baseline", "A baseline hub instance (started by run)") { mode, urls, postgres, pollInterval };
baseline.SetAction((p, ct) => BaselineServer.RunAsync(p.GetValue(mode)!, p.GetValue(urls)!, p.GetValue(postgres)!, TimeSpan.FromMilliseconds(p.GetValue(pollInterval)), ct));

var kind = new Option<string>("--kind") { Description = "signalr-group or raw-websocket", Required = true };
kind.AcceptOnlyFromAmong("signalr-group", "raw-websocket");
var peer = new Command("peer", "A peer's server instance (started by run): what a user would pick instead of the product") { kind, urls, redis };
peer.SetAction((p, ct) => p.GetValue(kind) == "signalr-group"
    ? ChatStreaming.Bench.Peers.SignalRGroupServer.RunAsync(p.GetValue(urls)!, p.GetValue(redis)!, ct)
    : ChatStreaming.Bench.Peers.RawWebSocketServer.RunAsync(p.GetValue(urls)!, p.GetValue(redis)!, ct));

var clients = new Option<int>("--clients") { Description = "Soak: concurrent clients", DefaultValueFactory = _ => 200 };
var minutes = new Option<double>("--minutes") { Description = "Soak: how long", DefaultValueFactory = _ => 10 };
var killEvery = new Option<double>("--kill-every") { Description = "Soak: minutes between CLIENT KILL TYPE pubsub", DefaultValueFactory = _ => 2 };
var soakTokensPerSecond = new Option<double>("--tokens-per-second") { Description = "Pace of each simulated answer", DefaultValueFactory = _ => 10 };
var soakTokens = new Option<int>("--tokens") { Description = "Tokens per answer", DefaultValueFactory = _ => 60 };
var soakMarkdown = new Option<string?>("--markdown") { Description = "Markdown report", DefaultValueFactory = _ => "docs/soak.md" };
var soak = new Command("soak", "Many clients, continuous answers, pub/sub killed on a schedule: gaps and memory slope")
    { clients, minutes, killEvery, soakTokensPerSecond, soakTokens, redis, postgres, soakMarkdown, json, command };
soak.SetAction((p, ct) => new ChatStreaming.Bench.Soak.SoakRun(new(
        p.GetValue(clients), TimeSpan.FromMinutes(p.GetValue(minutes)), TimeSpan.FromMinutes(p.GetValue(killEvery)), p.GetValue(soakTokensPerSecond),
        p.GetValue(soakTokens), p.GetValue(redis)!, p.GetValue(postgres)!, TimeSpan.FromMinutes(2)))
    .RunAsync(p.GetValue(soakMarkdown), p.GetValue(json), p.GetValue(command)!, ct));

var events = new Option<int>("--events") { Description = "Events per protocol and round", DefaultValueFactory = _ => 1_000_000 };
var protocols = new Command("protocols", "What writing one chunk event costs with each hub protocol, in this process (no network)") { events };
protocols.SetAction(p => ChatStreaming.Bench.ProtocolCost.Run(p.GetValue(events)));

var root = new RootCommand("ChatStreaming benchmark: Redis push vs Postgres polling vs LISTEN/NOTIFY; soak; hub protocols' cost") { run, baseline, peer, soak, protocols };
return await root.Parse(args).InvokeAsync();

// The pipelines asked for; with a Redis Cluster, redis-cluster after redis (or first) unless already listed.
static string[] PipelinesOf(string list, string? redisCluster)
{
    var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    if (redisCluster is not null && !names.Contains("redis-cluster"))
    {
        names.Insert(names.IndexOf("redis") + 1, "redis-cluster");
    }

    return [.. names];
}

// --ramp's stream counts ("50,100,200"); none without it.
static int[] StepsOf(string? ramp) =>
    ramp is null ? [] : [.. ramp.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture))];

// A count option (--rounds, --ramp-rounds) given below 1.
static void AtLeastOne(OptionResult result)
{
    if (result.GetValueOrDefault<int?>() is < 1)
    {
        result.AddError($"{result.Option.Name} must be at least 1");
    }
}
