using ChatStreaming.Contracts;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Registry;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// Where a relay puts each chunk: written and published through the broadcaster, retried for a few seconds when Redis
/// pauses or fails over; a chunk refused because the answer ended elsewhere stops the generation here.
/// Redis replicates asynchronously: a failover (or a restart) can take the last chunks of a replay buffer with it. The
/// append script refuses a chunk whose predecessor the buffer lacks (<see cref="ChunkWrite.Gap"/>); the sink then writes
/// back what is missing from <see cref="AnswerChunks"/> and the chunk after it, so a client resuming with GetChunks
/// never meets a silent gap. The tail after the last chunk is checked at the answer's end when Redis failed meanwhile.
/// </summary>
internal sealed class ChunkSink(
    IChatBroadcaster broadcaster,
    ChunkWriter writer,
    ChunkPacing pacing,
    ReplayStream replay,
    RedisConnectionFailures failures,
    ResiliencePipelineProvider<string> pipelines,
    WorkerMetrics metrics,
    TimeProvider timeProvider,
    ILogger<ChunkSink> logger)
{
    private readonly ResiliencePipeline chunkRetry = pipelines.GetPipeline(RedisRetries.Chunks);

    /// <summary>An answer's chunk memory, started now (nothing written, nothing to check).</summary>
    public AnswerChunks Open(Guid conversationId, Guid messageId, long epoch) => new(AnswerKeys.For(conversationId, messageId, epoch), failures.Count);

    public async Task WriteAsync(AnswerChunks answer, Chunk chunk, byte[]? continuation, long generationStarted, CancellationTokenSource generation)
    {
        var writing = timeProvider.GetTimestamp();
        // Redis paused or failing over: a few seconds of retries (both steps take a repeat: the append is idempotent,
        // clients drop a sequence they have); past them the relay offers the chunk again with the next one.
        // The first try without the retry pipeline (the common case costs nothing extra); a failure goes through it.
        bool endedElsewhere;
        try
        {
            endedElsewhere = !await WriteOnceAsync(answer, chunk, continuation);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            endedElsewhere = await chunkRetry.ExecuteAsync(async _ => !await WriteOnceAsync(answer, chunk, continuation), CancellationToken.None);
        }

        if (endedElsewhere)
        {
            if (!generation.IsCancellationRequested)
            {
                WorkerLog.EndedElsewhere(logger, chunk.MessageId);
                await generation.CancelAsync();
            }

            return;
        }

        answer.Add(chunk, continuation);
        var written = timeProvider.GetElapsedTime(writing);
        pacing.Observe(written);
        metrics.ChunkWritten(written.TotalMilliseconds, chunk.Delta.Length);
        metrics.ChunkDelivered(timeProvider.UnixMilliseconds() - chunk.EmittedAt);
        if (chunk.Sequence == 1)
        {
            metrics.FirstChunk(timeProvider.GetElapsedTime(generationStarted).TotalMilliseconds);
        }
    }

    /// <summary>
    /// Before an answer ends: if Redis failed since its buffer was last checked, writes back what it lost (best effort,
    /// retried for a few seconds; the answer's end does not wait longer).
    /// </summary>
    public async Task CompleteAsync(AnswerChunks answer)
    {
        if (!answer.NeedsCheck(failures.Count))
        {
            return;
        }

        try
        {
            await chunkRetry.ExecuteAsync(async _ => await WriteBackAsync(answer), CancellationToken.None);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            WorkerLog.WriteBackFailed(logger, ex, answer.Keys.Chunks.ToString());
        }
    }

    /// <summary>Writes the chunk; false when the answer ended elsewhere. A gap below it is written back first.</summary>
    private async Task<bool> WriteOnceAsync(AnswerChunks answer, Chunk chunk, byte[]? continuation)
    {
        try
        {
            var write = await broadcaster.ChunkAsync(answer.Keys, chunk, continuation);
            if (write == ChunkWrite.Gap)
            {
                if (!await WriteBackAsync(answer))
                {
                    return false;
                }

                write = await broadcaster.ChunkAsync(answer.Keys, chunk, continuation);
                if (write == ChunkWrite.Gap)
                {
                    // Only if Redis lost chunks again meanwhile: the relay offers this chunk again with the next one.
                    throw new InvalidOperationException($"the replay buffer of {chunk.MessageId} still lacks chunks below {chunk.Sequence} after they were written back");
                }
            }

            return write != ChunkWrite.Ended;
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            answer.WriteFailed = true;
            throw;
        }
    }

    /// <summary>
    /// Appends again (and publishes again: clients drop a sequence they have) every written chunk above the buffer's top,
    /// in order. False when the answer ended elsewhere meanwhile.
    /// </summary>
    private async Task<bool> WriteBackAsync(AnswerChunks answer)
    {
        var failuresNow = failures.Count; // read first: a failure during the check is checked again next time
        var top = await replay.TopSequenceAsync(answer.Keys);
        var missing = answer.Written.Where(c => c.Chunk.Sequence > top).ToArray();
        foreach (var (chunk, continuation) in missing)
        {
            if (await writer.WriteAsync(answer.Keys, chunk, continuation) == ChunkWrite.Ended)
            {
                return false;
            }
        }

        if (missing.Length > 0)
        {
            metrics.ChunksWrittenBack(missing.Length);
            WorkerLog.ChunksWrittenBack(logger, missing.Length, missing[0].Chunk.Sequence, missing[^1].Chunk.Sequence, missing[0].Chunk.MessageId);
        }

        answer.Checked(failuresNow);
        return true;
    }
}
