using System.Threading.Channels;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// The instance's one writer of chunks: every chunk of every answer running here goes into its answer's replay buffer
/// and out to the other instances in one Redis script (<see cref="ReplayStream"/>, one round trip), and every chunk
/// ready at the same time goes in one pipelined batch. Idle, a batch is one chunk (no waiting for company); under load
/// the batches grow by themselves, since chunks queue up while earlier batches are in flight. Up to
/// <see cref="MaxBatchesInFlight"/> batches are in flight at once, so a chunk waits for Redis, not for the replies of
/// the batch before its own.
/// Invariants: a chunk is published only by the script that wrote it to the replay buffer, so whoever receives it can
/// fetch everything before it. Each chunk of a batch succeeds or fails alone: a batch that fails half-way fails only
/// the chunks it did not write (their callers offer them again; a repeat is <see cref="ChunkWrite.Repeated"/>).
/// Callers write one chunk of an answer at a time (the relay awaits each), so sequences reach Redis in order.
/// The queue is bounded (<see cref="Capacity"/>, full mode: the writer waits), so a Redis that falls behind slows the
/// relays, which coalesce deltas meanwhile, instead of growing memory. Registered before the generator, it stops after
/// it: what was queued is written before the host stops.
/// </summary>
internal sealed class ChunkWriter(IConnectionMultiplexer redis, ReplayStream replay, InstanceIdentity instance, int maxBatchesInFlight) : BackgroundService
{
    /// <summary>Batches sent and not yet answered at most (Redis answers them in order).</summary>
    public const int MaxBatchesInFlight = 4;

    public ChunkWriter(IConnectionMultiplexer redis, ReplayStream replay, InstanceIdentity instance)
        : this(redis, replay, instance, MaxBatchesInFlight)
    {
    }

    private readonly SemaphoreSlim inFlight = new(maxBatchesInFlight, maxBatchesInFlight);

    /// <summary>Most chunks in one pipelined batch (a bound on one batch's latency, not on throughput).</summary>
    public const int MaxBatch = 256;

    /// <summary>Chunks waiting for Redis at most; one per running answer is the norm (each relay awaits its chunk).</summary>
    public const int Capacity = 4096;

    private readonly Channel<Pending> queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private long batchesSent;

    /// <summary>
    /// Writes and publishes <paramref name="chunk"/>. Throws what Redis threw for this chunk (the caller retries; other
    /// chunks of the same batch are not affected).
    /// </summary>
    public Task<ChunkWrite> WriteAsync(AnswerKeys keys, Chunk chunk, byte[]? continuation = null)
    {
        var pending = new Pending(keys, chunk, ConversationEvent.Encode(instance.Value, chunk), continuation);
        // Queued at once (the common case): the chunk's own task is the answer, with no async step of this method's
        // own to allocate per chunk (docs/benchmarks-profile.md, "fewer bytes per chunk").
        return queue.Writer.TryWrite(pending) ? pending.Task : WhenQueuedAsync(pending);
    }

    /// <summary>The queue is full: waits for room (Redis is behind), then for the chunk's result.</summary>
    private async Task<ChunkWrite> WhenQueuedAsync(Pending pending)
    {
        try
        {
            await queue.Writer.WriteAsync(pending);
        }
        catch (ChannelClosedException ex)
        {
            throw new ObjectDisposedException(nameof(ChunkWriter), ex);
        }

        return await pending.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not stopped by the token: StopAsync closes the queue and this loop writes what is left, then ends.
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            await inFlight.WaitAsync(CancellationToken.None);
            var batch = new List<(Pending Chunk, Task<RedisResult> Result)>(Math.Min(MaxBatch, queue.Reader.Count + 1));
            var pipeline = redis.GetDatabase().CreateBatch();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                Task<RedisResult> result;
                try
                {
                    result = replay.Append(pipeline, pending.Keys, pending.Chunk, pending.Payload, pending.Continuation);
                }
                catch (Exception ex) // the writer outlives any one failure: this chunk's caller gets it
                {
                    result = Task.FromException<RedisResult>(ex);
                }

                batch.Add((pending, result));
            }

            try
            {
                pipeline.Execute();
                Interlocked.Increment(ref batchesSent);
            }
            catch (Exception ex)
            {
                // Nothing of this batch was sent: its results would never come. Each chunk's caller gets the error.
                foreach (var (pending, _) in batch)
                {
                    pending.TrySetException(ex);
                }

                inFlight.Release();
                continue;
            }

            _ = CompleteAsync(batch);
        }

        for (var i = 0; i < maxBatchesInFlight; i++)
        {
            await inFlight.WaitAsync(CancellationToken.None); // every batch in flight has been answered
        }
    }

    /// <summary>Hands each chunk of a sent batch its own result, then frees the batch's slot.</summary>
    private async Task CompleteAsync(List<(Pending Chunk, Task<RedisResult> Result)> batch)
    {
        try
        {
            foreach (var (pending, result) in batch)
            {
                try
                {
                    RedisResult appended;
                    try
                    {
                        appended = await result;
                    }
                    catch (RedisServerException ex) when (ReplayStream.IsUnknownScript(ex))
                    {
                        // That Redis lost its scripts (or never had this one): this chunk goes with the script's text,
                        // which loads it there; the next chunks find it. Chunks of one answer are written one at a time,
                        // so this one is still the answer's latest.
                        appended = await replay.AppendLoadingAsync(pending.Keys, pending.Chunk, pending.Payload, pending.Continuation);
                    }

                    pending.TrySetResult(ReplayStream.WriteOf(appended));
                }
                catch (Exception ex)
                {
                    pending.TrySetException(ex);
                }
            }
        }
        finally
        {
            inFlight.Release();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    /// <summary>Batches sent so far (a chunk or more each).</summary>
    internal long BatchesSent => Interlocked.Read(ref batchesSent);

    private sealed class Pending(AnswerKeys keys, Chunk chunk, byte[] payload, byte[]? continuation)
        : TaskCompletionSource<ChunkWrite>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public AnswerKeys Keys { get; } = keys;

        public Chunk Chunk { get; } = chunk;

        public byte[] Payload { get; } = payload;

        public byte[]? Continuation { get; } = continuation;
    }
}
