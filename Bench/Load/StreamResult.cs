namespace ChatStreaming.Bench.Load;

/// <summary>
/// What the clients of one stream saw: one receiver per watching connection. A receiver's records are sized for the
/// stream's <paramref name="tokens"/> up front, so recording a delivery allocates nothing: the load client's own
/// bookkeeping must not add garbage collections (each pause delays every stream's callbacks, whatever the pipeline).
/// </summary>
internal sealed class StreamResult(int tokens)
{
    public List<Receiver> Receivers { get; } = [];

    public Receiver Add(bool crossInstance)
    {
        var receiver = new Receiver(crossInstance, tokens);
        lock (Receivers)
        {
            Receivers.Add(receiver);
        }

        return receiver;
    }

    public long Received => Receivers.Sum(r => r.Locked(x => x.Received));

    public bool Finished => Receivers.Count > 0 && Receivers.All(r => r.Locked(x => x.Finished));

    public long Lost => Receivers.Sum(r => r.Locked(x => x.Lost));

    public long Duplicated => Receivers.Sum(r => r.Locked(x => x.Duplicated));
}

/// <summary>One connection's view of one stream (lock it to read or write).</summary>
internal sealed class Receiver(bool crossInstance, int tokens)
{
    /// <summary>Watching from the other instance than the one that produces the stream.</summary>
    public bool CrossInstance { get; } = crossInstance;

    /// <summary>(emitted at, Unix ms; delivery latency, ms) per chunk received.</summary>
    public List<(double EmittedAt, double Latency)> Samples { get; } = new(tokens);

    public HashSet<long> Sequences { get; } = new(tokens);

    /// <summary>Room for the answer's text at the simulated model's pace (a few characters a token); it grows past that.</summary>
    public System.Text.StringBuilder Text { get; } = new(8 * tokens);

    public long Received { get; set; }

    /// <summary>The number of chunks the stream had (product: GenerationFinished.lastSequence; baselines: the tokens).</summary>
    public long Expected { get; set; }

    public bool Finished { get; set; }

    /// <summary>Product only: the deltas joined equal the saved content.</summary>
    public bool ContentMatches { get; set; } = true;

    public long Lost => Math.Max(0, Expected - Sequences.Count) + (ContentMatches ? 0 : 1);

    public long Duplicated => Received - Sequences.Count;

    public void Chunk(long sequence, string delta, double emittedAt, double now)
    {
        lock (this)
        {
            Received++;
            Samples.Add((emittedAt, now - emittedAt));
            if (Sequences.Add(sequence))
            {
                Text.Append(delta);
            }
        }
    }

    public T Locked<T>(Func<Receiver, T> read)
    {
        lock (this)
        {
            return read(this);
        }
    }
}
