using System.Globalization;
using System.Text;
using ChatStreaming.Bench.Load;

namespace ChatStreaming.Bench.Report;

/// <summary>
/// The product on one Redis beside the same product on a Redis Cluster (<c>./bench.sh --cluster</c>): latency, Redis
/// CPU per chunk summed and per node, each master's share of the chunks, and the pub/sub messages each node handled.
/// </summary>
internal static class ClusterReport
{
    public static void Write(StringBuilder md, RunReport report)
    {
        if (report.Result("redis-cluster") is not { } cluster)
        {
            return;
        }

        var single = report.Result("redis");
        md.AppendLine("## On a Redis Cluster").AppendLine();
        md.AppendLine("`./bench.sh --cluster`: the same two hubs and load on a local 6-node Redis Cluster (3 masters, 3 replicas, `redis-server --cluster-enabled yes` on ports 7200–7205), beside the single Redis. Every node runs on the same two cores as everything else, so the cluster's summed Redis CPU includes three replicas applying the masters' writes: this shows where a chunk goes, not a cluster's capacity (that needs a core per node).").AppendLine();
        md.AppendLine(Inv($"| {report.Settings.Streams} streams | single Redis | Redis Cluster |"));
        md.AppendLine("|---|---|---|");
        Row(md, "cross-instance p50 / p99 (steady window)", r => Inv($"{Ms(r.H(50))} / {Ms(r.H(99))}"), single, cluster);
        Row(md, "Redis CPU per chunk written, every node summed (µs)", r => Inv($"{r.RedisCpuMicrosecondsPerChunkWritten:0.#}"), single, cluster);
        Row(md, "hub CPU per delivery (µs)", r => Inv($"{r.CpuMicrosecondsPerChunk("hubs"):0}"), single, cluster);
        Row(md, "chunks written / lost / duplicated / unfinished", r => Inv($"{r.Server.Writes} / {r.Lost} / {r.Duplicated} / {r.UnfinishedStreams}"), single, cluster);
        md.AppendLine();

        var nodes = cluster.RedisNodes ?? [];
        var scripts = Math.Max(1, nodes.Where(n => n.Role == "master").Sum(n => n.Scripts));
        md.AppendLine("Per node, during the measured run: its CPU per chunk written (the run's chunks, all nodes'), its share of the scripts run (an append of a chunk is one; registrations, renewals and ends are the rest), the `SPUBLISH`es and `PUBLISH`es it executed (inside scripts included), and the pub/sub messages it received from other nodes over the cluster bus — plain (`PUBLISH` is forwarded to every node) and sharded (`SPUBLISH` reaches only its shard's replica).").AppendLine();
        md.AppendLine("| node | role | CPU per chunk (µs) | share of scripts | SPUBLISH | PUBLISH | bus: plain / sharded messages received |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var node in nodes)
        {
            var perChunk = cluster.Server.Writes == 0 ? double.NaN : node.CpuSeconds * 1e6 / cluster.Server.Writes;
            var share = node.Role == "master" ? Inv($"{100.0 * node.Scripts / scripts:0.#}%") : "—";
            md.AppendLine(Inv($"| {node.EndPoint} | {node.Role} | {perChunk:0.#} | {share} | {node.ShardedPublishes} | {node.Publishes} | {node.BusPublishesReceived} / {node.BusShardedPublishesReceived} |"));
        }

        md.AppendLine();
    }

    private static void Row(StringBuilder md, string metric, Func<PipelineResult, string> value, PipelineResult? single, PipelineResult cluster) =>
        md.AppendLine(Inv($"| {metric} | {(single is null ? "not run" : value(single))} | {value(cluster)} |"));

    private static string Ms(double value) => double.IsNaN(value) ? "—" : value < 10 ? Inv($"{value:0.00} ms") : Inv($"{value:0} ms");

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
