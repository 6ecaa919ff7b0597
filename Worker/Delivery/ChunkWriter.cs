using System.Threading.Channels;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Delivery;

/// <summary>
/// The instance's one writer of chunks: every chunk of every answer running here goes into its answer's replay buffer
/// and out to the other instances in one Redis script (one round trip), and every chunk ready at the same time goes in
/// one pipelined batch. Idle, a batch is one chunk (no waiting for company); under load the batches grow by themselves,
/// since chunks queue up while the previous batch is in flight.
/// Invariants: a chunk is published only by the script that wrote it to the replay buffer, so whoever receives it can
/// fetch everything before it. Each chunk of a batch succeeds or fails alone: a batch that fails half-way fails only
/// the chunks it did not write (their callers offer them again; a repeat is <see cref="ChunkWrite.Repeated"/>).
/// Callers write one chunk of an answer at a time (the relay awaits each), so sequences reach Redis in order.
/// </summary>
public sealed class ChunkWriter : IAsyncDisposable
{
    // KEYS: chunks stream, generation hash. ARGV: sequence, delta, emitted at, TTL (ms), events channel, payload, and
    // for a chunk that is not text its kind and part (a text chunk, nearly all of them, sends six arguments).
    // Idempotent without a read: XADD with an explicit id refuses an id not above the stream's top, which is a repeat
    // (chunks of an answer are written in order). Any other error (a key of the wrong type…) is the caller's.
    // The TTL slides with every chunk, so a buffer lives Chat:ReplayTtl after its last chunk.
    // Refused (-1) once the answer's status is final: an instance that was paused while another one ended its answer
    // adds nothing after the end (the state being gone, after a Redis restart, does not refuse).
    private const string AppendScript = """
        local status = redis.call('HGET', KEYS[2], 'status')
        if status and status ~= 'streaming' then
            return -1
        end
        local added
        if #ARGV > 6 then
            added = redis.pcall('XADD', KEYS[1], '0-' .. ARGV[1], 'd', ARGV[2], 't', ARGV[3], 'k', ARGV[7], 'p', ARGV[8])
        else
            added = redis.pcall('XADD', KEYS[1], '0-' .. ARGV[1], 'd', ARGV[2], 't', ARGV[3])
        end
        if type(added) == 'table' and added.err then
            if string.find(added.err, 'equal or smaller', 1, true) then
                return 0
            end
            return redis.error_reply(added.err)
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('PUBLISH', ARGV[5], ARGV[6])
        return 1
        """;

    /// <summary>Most chunks in one pipelined batch (a bound on one batch's latency, not on throughput).</summary>
    public const int MaxBatch = 256;

    private readonly IConnectionMultiplexer redis;
    private readonly InstanceIdentity instance;
    private readonly RedisValue ttlMilliseconds;
    private readonly Channel<Pending> queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task writing;
    private long batchesSent;

    public ChunkWriter(IConnectionMultiplexer redis, InstanceIdentity instance, IOptions<ChatStreamingOptions> options)
    {
        this.redis = redis;
        this.instance = instance;
        ttlMilliseconds = (long)options.Value.ReplayTtl.TotalMilliseconds;
        writing = Task.Run(WriteBatchesAsync);
    }

    /// <summary>
    /// Writes and publishes <paramref name="chunk"/>. Throws what Redis threw for this chunk (the caller retries; other
    /// chunks of the same batch are not affected).
    /// </summary>
    public Task<ChunkWrite> WriteAsync(AnswerKeys keys, Chunk chunk)
    {
        var pending = new Pending(keys, chunk, ConversationEvent.Encode(instance.Value, chunk));
        return queue.Writer.TryWrite(pending) ? pending.Task : Task.FromException<ChunkWrite>(new ObjectDisposedException(nameof(ChunkWriter)));
    }

    private async Task WriteBatchesAsync()
    {
        var batch = new List<(Pending Chunk, Task<RedisResult> Result)>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync())
        {
            var pipeline = redis.GetDatabase().CreateBatch();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                var chunk = pending.Chunk;
                Task<RedisResult> result;
                try
                {
                    result = pipeline.ScriptEvaluateAsync(
                        AppendScript,
                        [pending.Keys.Chunks, pending.Keys.Generation],
                        chunk.Kind == ChunkKinds.Text
                            ? [chunk.Sequence, chunk.Delta, chunk.EmittedAt, ttlMilliseconds, pending.Keys.Events, pending.Payload]
                            : [chunk.Sequence, chunk.Delta, chunk.EmittedAt, ttlMilliseconds, pending.Keys.Events, pending.Payload, chunk.Kind, chunk.Part ?? ""]);
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
                    pending.TrySetResult((int)await result switch
                    {
                        1 => ChunkWrite.Written,
                        0 => ChunkWrite.Repeated,
                        _ => ChunkWrite.Ended,
                    });
                }
                catch (Exception ex)
                {
                    pending.TrySetException(ex);
                }
            }

            batch.Clear();
        }
    }

    /// <summary>Batches sent so far (a chunk or more each).</summary>
    internal long BatchesSent => Interlocked.Read(ref batchesSent);

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await writing;
    }

    private sealed class Pending(AnswerKeys keys, Chunk chunk, byte[] payload)
        : TaskCompletionSource<ChunkWrite>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public AnswerKeys Keys { get; } = keys;

        public Chunk Chunk { get; } = chunk;

        public byte[] Payload { get; } = payload;
    }
}
