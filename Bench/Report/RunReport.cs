using ChatStreaming.Bench.Load;

namespace ChatStreaming.Bench.Report;

/// <summary>A whole run: where, how, and each pipeline's main result and ramp.</summary>
internal sealed record RunReport(
    DateTimeOffset Date,
    string Command,
    IReadOnlyDictionary<string, string> Machine,
    BenchSettings Settings,
    IReadOnlyList<PipelineResult> Results,
    IReadOnlyDictionary<string, IReadOnlyList<PipelineResult>> Ramps)
{
    public const double SloP99Milliseconds = 50;

    public PipelineResult? Result(string pipeline) => Results.FirstOrDefault(r => r.Pipeline == pipeline);

    /// <summary>A pipeline's result at <paramref name="streams"/> streams: the main run's, else its ramp step's.</summary>
    public PipelineResult? At(string pipeline, int streams) =>
        Result(pipeline) is { } main && main.Streams == streams ? main : Ramps.GetValueOrDefault(pipeline)?.FirstOrDefault(s => s.Streams == streams);

    /// <summary>The product and what a user would pick instead, in the order the report shows them.</summary>
    public static readonly string[] Peers = ["redis", "redis-msgpack", "signalr-group", "resumable-stream", "raw-websocket"];

    /// <summary>The largest ramp step meeting the SLO, 0 when none did, null without a ramp.</summary>
    public int? MaxStreamsWithinSlo(string pipeline) =>
        Ramps.TryGetValue(pipeline, out var steps) && steps.Count > 0
            ? steps.Where(s => s.WithinSlo(SloP99Milliseconds)).Select(s => s.Streams).DefaultIfEmpty(0).Max()
            : null;
}
