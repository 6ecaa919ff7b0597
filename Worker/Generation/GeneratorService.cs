using System.Diagnostics;
using System.Threading.Channels;
using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Tools;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Registry;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// Runs queued generations, <see cref="ChatStreamingOptions.MaxConcurrentGenerations"/> at a time. Per answer: stream the
/// model's deltas through a <see cref="ChunkRelay"/> into Redis and the backplane, decide the final status once (Redis),
/// save the final message once (Postgres), then announce the end.
/// </summary>
public sealed class GeneratorService(
    GenerationQueue queue,
    OwnedAnswers owned,
    GenerationState state,
    ChatStore store,
    GenerationFinisher finisher,
    ModelStreamReader model,
    ModelCatalog models,
    UserLimiter limiter,
    IChatBroadcaster broadcaster,
    IConnectionMultiplexer redis,
    IOptions<ChatStreamingOptions> options,
    ResiliencePipelineProvider<string> pipelines,
    WorkerMetrics metrics,
    TimeProvider timeProvider,
    ILogger<GeneratorService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slots = options.Value.MaxConcurrentGenerations;
        WorkerLog.GeneratorStarted(logger, slots, queue.Capacity);
        var generating = Task.WhenAll(Enumerable.Range(0, slots).Select(_ => RunSlotAsync(stoppingToken)));
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var watching = WatchCancelFlagsAsync(stopWatching.Token);

        // Cancel requests from every instance. Redis may be down at start: keep trying, generation does not wait for it.
        ChannelMessageQueue? cancellations = null;
        try
        {
            cancellations = await untilRedisAnswers.ExecuteAsync(async _ => await redis.GetSubscriber().SubscribeAsync(RedisKeys.Cancellations), stoppingToken);
            cancellations.OnMessage(message =>
            {
                if (Guid.TryParse((string?)message.Message, out var messageId) && owned.TryCancel(messageId))
                {
                    WorkerLog.CancelReceived(logger, messageId);
                }
            });
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await generating;
        await stopWatching.CancelAsync(); // nothing runs any more
        await watching;

        // Stopping: what is still queued never started; end each one truthfully instead of leaving it "streaming".
        queue.Complete();
        while (queue.Reader.TryRead(out var job))
        {
            await FinishAsync(job, new ModelOutcome(MessageStatus.Interrupted, "the server shut down before the answer started"), Empty, null);
            owned.Release(job.AssistantMessageId);
        }

        if (cancellations is not null)
        {
            await cancellations.UnsubscribeAsync();
        }
    }

    /// <summary>
    /// Graceful stop: take no new answers, let queued and running ones finish within Chat:ShutdownGrace, then cancel
    /// what is left (it ends interrupted, saved and announced) and wait for that to be done.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Complete();
        if (ExecuteTask is { } work)
        {
            await Task.WhenAny(work, Task.Delay(options.Value.ShutdownGrace, timeProvider, cancellationToken));
        }

        await base.StopAsync(cancellationToken);
    }

    private async Task RunSlotAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
            {
                await RunAsync(job, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunAsync(GenerationJob job, CancellationToken stoppingToken)
    {
        var messageId = job.AssistantMessageId;
        using var activity = WorkerTracing.StartAnswerSpan("chat.generation", job.ConversationId, messageId, job.Parent);
        // Every log line of this answer, whichever class writes it (model reader, relay, finisher), carries its ids.
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["ConversationId"] = job.ConversationId, ["MessageId"] = messageId });
        metrics.QueueWait(Stopwatch.GetElapsedTime(job.QueuedAt).TotalMilliseconds);
        // Attached before the cancel flag is read: a cancel is either seen by the read or delivered to this source.
        using var generation = owned.Start(job.Answer, stoppingToken);
        metrics.GenerationStarted();
        var outcome = new ModelOutcome(MessageStatus.Failed, "the answer could not be generated");
        var relayed = Empty;
        string? modelName = null;
        var deltas = Channel.CreateUnbounded<ModelDelta>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        Task<RelayResult>? relay = null;
        try
        {
            if (await state.IsCancelRequestedAsync(messageId))
            {
                outcome = new ModelOutcome(MessageStatus.Cancelled);
                return;
            }

            WorkerLog.GenerationStarted(logger, messageId, job.ConversationId);
            var started = timeProvider.GetTimestamp();
            await AnnounceStartAsync(new GenerationStarted(job.ConversationId, messageId, job.UserMessageId));
            var history = await store.GetModelHistoryAsync(job.ConversationId, job.UserMessageId, models.MaxContextMessages, generation.Token);
            // The send's model, else the conversation's, else the default (a name no longer in the catalog is the default).
            var answering = models.Get(job.Model ?? history.Model);
            modelName = answering.Name;
            activity?.SetTag("chat.model", modelName);
            var keys = AnswerKeys.For(job.ConversationId, messageId);
            relay = ChunkRelay.RunAsync(job.ConversationId, messageId, deltas.Reader, chunk => RelayChunkAsync(keys, chunk, started, generation), CancellationToken.None);
            using (ToolCaller.Enter(new ToolCaller(job.OwnerId, job.ConversationId)))
            {
                var messages = ConversationContext.Build(answering.Options, history.Messages, job.Prompt, history.SystemPrompt);
                outcome = await model.ReadAsync(answering, messages, deltas.Writer, generation.Token, stoppingToken);
            }

            relayed = await relay;
            if (relayed.SinkError is not null)
            {
                WorkerLog.RelayFailed(logger, relayed.SinkError, messageId);
            }

            metrics.Coalesced(relayed.Deltas - relayed.LastSequence);
        }
        catch (Exception ex)
        {
            // Redis or Postgres failed around the model call: the answer still ends, saved with the text it streamed.
            WorkerLog.GenerationFailed(logger, ex, messageId);
            if (relay is not null)
            {
                deltas.Writer.TryComplete();
                relayed = await relay; // never throws: a sink failure is in its result
            }

            outcome = generation.IsCancellationRequested && stoppingToken.IsCancellationRequested
                ? new ModelOutcome(MessageStatus.Interrupted, "the server shut down during the answer")
                : outcome with { Status = relayed.LastSequence > 0 ? MessageStatus.Interrupted : MessageStatus.Failed };
        }
        finally
        {
            try
            {
                owned.MarkEnding(messageId);
                await FinishAsync(job, outcome, relayed, modelName);
                await SpendTokensAsync(job, outcome.Usage);
            }
            catch (Exception ex)
            {
                // Postgres stayed away through every retry: another instance's sweep ends the answer later.
                WorkerLog.FinishFailed(logger, ex, messageId);
            }
            finally
            {
                owned.Release(messageId);
                metrics.GenerationEnded(outcome.Status.ToWireName());
                activity?.SetTag("chat.status", outcome.Status.ToWireName());
                activity?.SetTag("chat.chunks", relayed.LastSequence);
            }
        }
    }

    /// <summary>
    /// The cancel notice comes by pub/sub, which delivers at most once (a subscription being re-established after a Redis
    /// failover misses it); the flag in Redis is the truth, so every <see cref="CancelPollInterval"/> the flags of every
    /// answer running here are read, in one pipelined batch (one round trip per instance, however many answers).
    /// </summary>
    private async Task WatchCancelFlagsAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CancelPollInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var running = owned.Running;
                if (running.Count == 0)
                {
                    continue;
                }

                try
                {
                    foreach (var messageId in await state.CancelRequestedAmongAsync(running))
                    {
                        if (owned.TryCancel(messageId))
                        {
                            WorkerLog.CancelReceived(logger, messageId);
                        }
                    }
                }
                catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
                {
                    // Redis away: the next tick tries again
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static readonly TimeSpan CancelPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Best effort: a client not told of the start still gets the chunks (the first one it sees tells it).</summary>
    private async Task AnnounceStartAsync(GenerationStarted started)
    {
        try
        {
            await broadcaster.GenerationStartedAsync(started);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            WorkerLog.StartNotAnnounced(logger, ex, started.MessageId);
        }
    }

    private async Task RelayChunkAsync(AnswerKeys keys, Chunk chunk, long generationStarted, CancellationTokenSource generation)
    {
        var writing = timeProvider.GetTimestamp();
        // Redis paused or failing over: a few seconds of retries (both steps take a repeat: the append is idempotent,
        // clients drop a sequence they have); past them the relay offers the chunk again with the next one.
        // The first try without the retry pipeline (the common case costs nothing extra); a failure goes through it.
        var endedElsewhere = false;
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

    /// <summary>Counts the answer's tokens against its owner's daily budget; Redis being away loses this answer's count only.</summary>
    private async Task SpendTokensAsync(GenerationJob job, TokenUsage? usage)
    {
        if (usage is null)
        {
            return;
        }

        try
        {
            await limiter.SpendTokensAsync(job.OwnerId, usage.PromptTokens + usage.CompletionTokens);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            WorkerLog.TokensNotCounted(logger, ex, job.AssistantMessageId);
        }
    }

    private Task FinishAsync(GenerationJob job, ModelOutcome outcome, RelayResult relayed, string? modelName) =>
        finisher.EndAsync(job.ConversationId, job.AssistantMessageId, outcome, relayed, modelName);

    private readonly ResiliencePipeline chunkRetry = pipelines.GetPipeline(RedisRetries.Chunks);

    // Redis away at start-up: retried until it answers (or the host stops).
    private readonly ResiliencePipeline untilRedisAnswers = pipelines.GetPipeline(RedisRetries.UntilAvailable);

    private static readonly RelayResult Empty = new("", [], 0, 0, null);
}
