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

    /// <summary>The largest ramp step meeting the SLO, 0 when none did, null without a ramp.</summary>
    public int? MaxStreamsWithinSlo(string pipeline) =>
        Ramps.TryGetValue(pipeline, out var steps) && steps.Count > 0
            ? steps.Where(s => s.WithinSlo(SloP99Milliseconds)).Select(s => s.Streams).DefaultIfEmpty(0).Max()
            : null;
}
