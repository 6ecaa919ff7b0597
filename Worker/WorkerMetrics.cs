using System.Diagnostics.Metrics;

namespace ChatStreaming.Worker;

/// <summary>The worker's instruments (meter <see cref="MeterName"/>), exported by the Hub on /metrics.</summary>
public sealed class WorkerMetrics
{
    public const string MeterName = "ChatStreaming.Worker";

    private readonly Histogram<double> chunkWrite;
    private readonly Histogram<double> timeToFirstChunk;
    private readonly Counter<long> chunks;
    private readonly Counter<long> chunkBytes;
    private readonly Counter<long> coalesced;
    private readonly UpDownCounter<long> active;
    private readonly Counter<long> finished;
    private readonly Counter<long> orphans;

    public WorkerMetrics(IMeterFactory meterFactory, GenerationQueue queue)
    {
        var meter = meterFactory.Create(MeterName);
        chunkWrite = meter.CreateHistogram<double>("chatstreaming.chunk.write.duration", "ms", "Time to write one chunk to Redis: replay buffer append plus backplane publish");
        timeToFirstChunk = meter.CreateHistogram<double>("chatstreaming.generation.time_to_first_chunk", "ms", "From the job leaving the queue to its first chunk written");
        chunks = meter.CreateCounter<long>("chatstreaming.chunks.sent", "{chunk}", "Chunks written to Redis");
        chunkBytes = meter.CreateCounter<long>("chatstreaming.chunks.bytes", "By", "UTF-16 characters of chunk deltas written, times two");
        coalesced = meter.CreateCounter<long>("chatstreaming.deltas.coalesced", "{delta}", "Model deltas merged into an earlier chunk because Redis was slower than the model");
        active = meter.CreateUpDownCounter<long>("chatstreaming.generations.active", "{generation}", "Generations running on this instance");
        finished = meter.CreateCounter<long>("chatstreaming.generations.finished", "{generation}", "Generations ended, by status");
        orphans = meter.CreateCounter<long>("chatstreaming.generations.orphans_recovered", "{generation}", "Answers of a stopped instance ended as interrupted by this one");
        meter.CreateObservableGauge("chatstreaming.generator.queue.depth", () => queue.Count, "{job}", "Jobs waiting for a generator slot");
    }

    public void ChunkWritten(double milliseconds, int deltaCharacters)
    {
        chunkWrite.Record(milliseconds);
        chunks.Add(1);
        chunkBytes.Add(deltaCharacters * 2L);
    }

    public void Coalesced(long mergedDeltas)
    {
        if (mergedDeltas > 0)
        {
            coalesced.Add(mergedDeltas);
        }
    }

    public void FirstChunk(double milliseconds) => timeToFirstChunk.Record(milliseconds);

    public void GenerationStarted() => active.Add(1);

    public void OrphanRecovered() => orphans.Add(1);

    public void GenerationEnded(string status)
    {
        active.Add(-1);
        finished.Add(1, new KeyValuePair<string, object?>("status", status));
    }
}
