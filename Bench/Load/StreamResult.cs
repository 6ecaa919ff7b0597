namespace ChatStreaming.Bench.Load;

/// <summary>What one client saw of one stream.</summary>
internal sealed class StreamResult
{
    public List<double> Latencies { get; } = [];

    public HashSet<long> Sequences { get; } = [];

    public long Received { get; set; }

    /// <summary>The number of chunks the stream had (product: GenerationFinished.lastSequence; baselines: the tokens).</summary>
    public long Expected { get; set; }

    public bool Finished { get; set; }

    /// <summary>Product only: the deltas joined equal the saved content.</summary>
    public bool ContentMatches { get; set; } = true;

    public long Lost => Math.Max(0, Expected - Sequences.Count) + (ContentMatches ? 0 : 1);

    public long Duplicated => Received - Sequences.Count;
}
