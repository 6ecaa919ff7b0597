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
/// </summary>
internal sealed class ChunkSink(
    IChatBroadcaster broadcaster,
    ResiliencePipelineProvider<string> pipelines,
    WorkerMetrics metrics,
    TimeProvider timeProvider,
    ILogger<ChunkSink> logger)
{
    private readonly ResiliencePipeline chunkRetry = pipelines.GetPipeline(RedisRetries.Chunks);

    public async Task WriteAsync(AnswerKeys keys, Chunk chunk, long generationStarted, CancellationTokenSource generation)
    {
        var writing = timeProvider.GetTimestamp();
        // Redis paused or failing over: a few seconds of retries (both steps take a repeat: the append is idempotent,
        // clients drop a sequence they have); past them the relay offers the chunk again with the next one.
        // The first try without the retry pipeline (the common case costs nothing extra); a failure goes through it.
        bool endedElsewhere;
        try
        {
            endedElsewhere = !await broadcaster.ChunkAsync(keys, chunk);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            endedElsewhere = await chunkRetry.ExecuteAsync(async _ => !await broadcaster.ChunkAsync(keys, chunk), CancellationToken.None);
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

        metrics.ChunkWritten(timeProvider.GetElapsedTime(writing).TotalMilliseconds, chunk.Delta.Length);
        metrics.ChunkDelivered(timeProvider.UnixMilliseconds() - chunk.EmittedAt);
        if (chunk.Sequence == 1)
        {
            metrics.FirstChunk(timeProvider.GetElapsedTime(generationStarted).TotalMilliseconds);
        }
    }
}
