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
/// the batches grow by themselves, since chunks queue up while the previous batch is in flight.
/// Invariants: a chunk is published only by the script that wrote it to the replay buffer, so whoever receives it can
/// fetch everything before it. Each chunk of a batch succeeds or fails alone: a batch that fails half-way fails only
/// the chunks it did not write (their callers offer them again; a repeat is <see cref="ChunkWrite.Repeated"/>).
/// Callers write one chunk of an answer at a time (the relay awaits each), so sequences reach Redis in order.
/// The queue is bounded (<see cref="Capacity"/>, full mode: the writer waits), so a Redis that falls behind slows the
/// relays, which coalesce deltas meanwhile, instead of growing memory. Registered before the generator, it stops after
/// it: what was queued is written before the host stops.
/// </summary>
internal sealed class ChunkWriter(IConnectionMultiplexer redis, ReplayStream replay, InstanceIdentity instance) : BackgroundService
{
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
    public async Task<ChunkWrite> WriteAsync(AnswerKeys keys, Chunk chunk)
    {
        var pending = new Pending(keys, chunk, ConversationEvent.Encode(instance.Value, chunk));
        if (!queue.Writer.TryWrite(pending))
        {
            try
            {
                await queue.Writer.WriteAsync(pending);
            }
            catch (ChannelClosedException ex)
            {
                throw new ObjectDisposedException(nameof(ChunkWriter), ex);
            }
        }

        return await pending.Task;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not stopped by the token: StopAsync closes the queue and this loop writes what is left, then ends.
        var batch = new List<(Pending Chunk, Task<RedisResult> Result)>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            var pipeline = redis.GetDatabase().CreateBatch();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                Task<RedisResult> result;
                try
                {
                    result = replay.Append(pipeline, pending.Keys, pending.Chunk, pending.Payload);
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

                batch.Clear();
                continue;
            }

            foreach (var (pending, result) in batch)
            {
                try
                {
                    pending.TrySetResult(ReplayStream.WriteOf(await result));
                }
                catch (Exception ex)
                {
                    pending.TrySetException(ex);
                }
            }

            batch.Clear();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    /// <summary>Batches sent so far (a chunk or more each).</summary>
    internal long BatchesSent => Interlocked.Read(ref batchesSent);

    private sealed class Pending(AnswerKeys keys, Chunk chunk, byte[] payload)
        : TaskCompletionSource<ChunkWrite>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public AnswerKeys Keys { get; } = keys;

        public Chunk Chunk { get; } = chunk;

        public byte[] Payload { get; } = payload;
    }
}
