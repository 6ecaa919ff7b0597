using System.Diagnostics.Metrics;


namespace ChatStreaming.Worker.Diagnostics;

/// <summary>The worker's instruments (meter <see cref="MeterName"/>), exported by the Hub on /metrics.</summary>
public sealed class WorkerMetrics
{
    public const string MeterName = "ChatStreaming.Worker";

    /// <summary>What clients read (replays, resumes): the meter's name from when the hub recorded them.</summary>
    public const string ReadsMeterName = "ChatStreaming.Server";

    private readonly Histogram<double> chunkWrite;
    private readonly Histogram<double> timeToFirstChunk;
    private readonly Counter<long> chunks;
    private readonly Counter<long> chunkBytes;
    private readonly Counter<long> coalesced;
    private readonly UpDownCounter<long> active;
    private readonly Counter<long> finished;
    private readonly Counter<long> orphans;
    private readonly Histogram<double> chunkDelay;
    private readonly Histogram<double> chunkReceived;
    private readonly Histogram<double> queueWait;
    private readonly Counter<long> modelErrors;
    private readonly Histogram<double> saveDuration;
    private readonly Counter<long> saveRetries;
    private readonly Counter<long> replayRequests;
    private readonly Counter<long> resumes;
    private readonly Counter<long> slowClients;
    private readonly Counter<long> writtenBack;
    private readonly Counter<long> resumed;
    private readonly Counter<long> leaseRenewals;
    private readonly Counter<long> orphanSweeps;
    private readonly Gauge<double> chunkLinger;

    public WorkerMetrics(IMeterFactory meterFactory)
    {
        var reads = meterFactory.Create(ReadsMeterName);
        replayRequests = reads.CreateCounter<long>("chatstreaming.replay.requests", "{request}", "GetChunks calls, by result (hit: served from the replay buffer; miss: the buffer is gone)");
        resumes = reads.CreateCounter<long>("chatstreaming.resumes", "{snapshot}", "Snapshots (JoinConversation) taken while an answer of the conversation was streaming: a client joining or coming back mid-answer");
        var meter = meterFactory.Create(MeterName);
        slowClients = meter.CreateCounter<long>("chatstreaming.connections.slow_closed", "{connection}", "Connections closed because they fell behind (Chat:SlowClientTimeout or Chat:MaxQueuedEventsPerConnection)");
        chunkWrite = meter.CreateHistogram<double>("chatstreaming.chunk.write.duration", "ms", "Time to write one chunk: the script that appends it to the replay buffer and publishes it (in a batch), plus the write to this instance's connections");
        timeToFirstChunk = meter.CreateHistogram<double>("chatstreaming.generation.time_to_first_chunk", "ms", "From the job leaving the queue to its first chunk written");
        resumed = meter.CreateCounter<long>("chatstreaming.answers.resumed", "{answer}", "Answers of a stopped instance carried on to their end by this one (Chat:Failover = Continue)");
        writtenBack = meter.CreateCounter<long>("chatstreaming.chunks.written_back", "{chunk}", "Chunks a Redis failover had lost from a running answer's replay buffer, written back from the owner's memory");
        chunks = meter.CreateCounter<long>("chatstreaming.chunks.sent", "{chunk}", "Chunks written to Redis");
        chunkBytes = meter.CreateCounter<long>("chatstreaming.chunks.bytes", "By", "UTF-16 characters of chunk deltas written, times two");
        coalesced = meter.CreateCounter<long>("chatstreaming.deltas.coalesced", "{delta}", "Model deltas merged into an earlier chunk: Redis was slower than the model, or the instance was behind (chatstreaming.chunks.linger)");
        chunkLinger = meter.CreateGauge<double>("chatstreaming.chunks.linger", "ms", "How long this instance's relays let model deltas gather into one chunk: 0 while it keeps up, up to Chat:MaxChunkLinger while its chunk writes are slow");
        active = meter.CreateUpDownCounter<long>("chatstreaming.generations.active", "{generation}", "Generations running on this instance");
        finished = meter.CreateCounter<long>("chatstreaming.generations.finished", "{generation}", "Generations ended, by status");
        orphans = meter.CreateCounter<long>("chatstreaming.generations.orphans_recovered", "{generation}", "Answers of a stopped instance ended as interrupted by this one");
        chunkDelay = meter.CreateHistogram<double>("chatstreaming.chunk.delay", "ms", "Inside the producing server: from the model emitting a chunk's first delta to the chunk being in Redis and written to this instance's connections");
        chunkReceived = meter.CreateHistogram<double>("chatstreaming.chunk.received.delay", "ms", "From the model emitting a chunk's first delta on another instance to this instance receiving the chunk from Redis (before writing it to its connections; instances' clocks must agree)");
        queueWait = meter.CreateHistogram<double>("chatstreaming.generator.queue.wait", "ms", "From SendMessage queueing an answer to a generator slot taking it");
        modelErrors = meter.CreateCounter<long>("chatstreaming.model.errors", "{error}", "Model calls that failed, by kind (authentication, rate_limited, http_error, stalled, dropped, invalid_response, unreachable)");
        saveDuration = meter.CreateHistogram<double>("chatstreaming.postgres.save.duration", "ms", "Saving a finished answer in Postgres, retries included");
        saveRetries = meter.CreateCounter<long>("chatstreaming.postgres.save.retries", "{retry}", "Retried attempts to save a finished answer (Postgres unreachable or restarting)");
        leaseRenewals = meter.CreateCounter<long>("chatstreaming.leases.renewals", "{round}", "Rounds of renewing this instance's heartbeat and its answers' leases (one per third of Chat:GenerationLease), by result (ok, failed): if it stops rising, other instances will claim this one's answers");
        orphanSweeps = meter.CreateCounter<long>("chatstreaming.orphans.sweeps", "{sweep}", "Sweeps for answers whose instance stopped (one per third of Chat:GenerationLease), by result (ok, failed)");
    }

    public void ChunkLinger(double milliseconds) => chunkLinger.Record(milliseconds);

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

    public void ChunkDelivered(double milliseconds) => chunkDelay.Record(milliseconds);

    public void ChunkReceived(double milliseconds) => chunkReceived.Record(milliseconds);

    public void QueueWait(double milliseconds) => queueWait.Record(milliseconds);

    public void ModelError(string kind) => modelErrors.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void Saved(double milliseconds, int retries)
    {
        saveDuration.Record(milliseconds);
        if (retries > 0)
        {
            saveRetries.Add(retries);
        }
    }

    public void GenerationStarted() => active.Add(1);

    public void OrphanRecovered() => orphans.Add(1);

    public void GenerationEnded(string status)
    {
        active.Add(-1);
        finished.Add(1, new KeyValuePair<string, object?>("status", status));
    }

    public void Replay(bool hit) => replayRequests.Add(1, new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));

    public void Resumed() => resumes.Add(1);

    public void SlowClientClosed() => slowClients.Add(1);

    public void ChunksWrittenBack(int count) => writtenBack.Add(count);

    public void AnswerResumed() => resumed.Add(1);

    public void LeaseRenewal(bool ok) => leaseRenewals.Add(1, Result(ok));

    public void OrphanSweep(bool ok) => orphanSweeps.Add(1, Result(ok));

    private static KeyValuePair<string, object?> Result(bool ok) => new("result", ok ? "ok" : "failed");
}
