using System.Diagnostics;
using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Registry;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// The one way an answer ends, whoever ends it (its generator, the hub refusing it, an orphan sweep): the final status
/// is decided once in Redis, the message is saved once in Postgres, then what is saved is announced.
/// Redis and Postgres outages are retried; if Redis stays away, Postgres (the durable truth) still gets the answer.
/// </summary>
internal sealed class GenerationFinisher(
    GenerationState state,
    ChatStore store,
    PostgresRetry postgresRetry,
    IChatBroadcaster broadcaster,
    ResiliencePipelineProvider<string> pipelines,
    WorkerMetrics metrics,
    ILogger<GenerationFinisher> logger)
{
    // Redis restarting or paused: a few seconds of retries before giving up on the Redis side of the end.
    private readonly ResiliencePipeline redisRetry = pipelines.GetPipeline(RedisRetries.Endings);

    /// <summary>
    /// Decides the status (a cancel request that came first wins over <paramref name="outcome"/>), saves what
    /// <paramref name="relayed"/> streamed (nothing when null) with the <paramref name="model"/> that answered, announces.
    /// Null when the caller's <paramref name="epoch"/> is stale: another instance took the answer over and will end it;
    /// nothing is saved or announced here.
    /// </summary>
    public async Task<GenerationFinished?> EndAsync(Guid conversationId, Guid messageId, ModelOutcome outcome, RelayResult? relayed = null, string? model = null, long epoch = 1)
    {
        MessageStatus status;
        try
        {
            if (await redisRetry.ExecuteAsync(async _ => await state.FinishAsync(conversationId, messageId, outcome.Status, outcome.Error, epoch, outcome.Usage), CancellationToken.None) is not { } decided)
            {
                WorkerLog.Fenced(logger, messageId, epoch);
                return null;
            }

            status = decided;
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            status = outcome.Status;
        }

        var error = status == outcome.Status ? outcome.Error : null; // else a cancel request won
        var final = new FinalMessage(
            messageId, relayed?.Content ?? "", status, relayed?.LastSequence ?? 0, error, outcome.FinishReason, outcome.Usage, relayed?.Parts, model, epoch);
        var (announced, _) = await SaveAndAnnounceAsync(conversationId, final, relayed?.Deltas ?? 0);
        return announced;
    }

    /// <summary>
    /// Saves an answer whose status is already decided (idempotent: only a message still streaming is written) and
    /// announces what is saved: ours, or the end someone else saved first. <c>Saved</c> is false in that second case.
    /// <c>Announced</c> is null when an owner's save (<see cref="FinalMessage.Epoch"/>) was refused because a later owner
    /// carries the answer on (Postgres still holds it streaming): nothing is announced.
    /// </summary>
    public async Task<(GenerationFinished? Announced, bool Saved)> SaveAndAnnounceAsync(Guid conversationId, FinalMessage final, int deltas = 0)
    {
        using var activity = WorkerTracing.StartAnswerSpan("chat.save", conversationId, final.MessageId);
        activity?.SetTag("chat.status", final.Status.ToWireName());
        var started = Stopwatch.GetTimestamp();
        var attempt = 0;
        var saved = await postgresRetry.ExecuteAsync(
            async ct =>
            {
                if (attempt++ > 0)
                {
                    await BestEffortAsync(state.KeepAsync(conversationId, final.MessageId)); // Postgres is away: the replay buffer must outlive the retries
                }

                return await store.SaveFinalAsync(final, ct);
            },
            CancellationToken.None);
        metrics.Saved(Stopwatch.GetElapsedTime(started).TotalMilliseconds, attempt - 1);
        activity?.SetTag("chat.save.attempts", attempt);
        activity?.SetTag("chat.saved", saved);
        var announced = new GenerationFinished(
            conversationId, final.MessageId, final.Status, final.LastSequence, final.Content, final.Error, final.FinishReason, final.Usage,
            final.Model, StoredParts.Normalize(final.Parts, final.Content));
        if (!saved && await store.GetMessageAsync(final.MessageId, CancellationToken.None) is { } already)
        {
            if (already.Status == MessageStatus.Streaming)
            {
                // Fenced in Postgres: taken over while this owner could not reach Redis to learn it (a partition).
                WorkerLog.Fenced(logger, final.MessageId, final.Epoch ?? 0);
                return (null, false);
            }

            WorkerLog.AlreadySaved(logger, final.MessageId);
            announced = new GenerationFinished(
                conversationId, final.MessageId, already.Status, already.LastSequence ?? 0, already.Content, already.Error, already.FinishReason, already.Usage,
                already.Model, already.Parts);
        }

        WorkerLog.GenerationFinished(logger, final.MessageId, conversationId, announced.Status, announced.LastSequence, deltas);
        await redisRetry.ExecuteAsync(async _ => await broadcaster.GenerationFinishedAsync(announced), CancellationToken.None);
        if (saved)
        {
            await BestEffortAsync(state.SavedAsync(conversationId, final.MessageId)); // a short Chat:ReplayTtl applies from now
        }

        return (announced, saved);
    }

    /// <summary>
    /// Ends an answer Redis never registered (it went away after the message was saved): saved <c>failed</c> with
    /// <paramref name="error"/> in one attempt (a caller is waiting; the stale-answer sweep is the fallback) and not
    /// announced, since no client was told it started.
    /// </summary>
    public async Task EndUnregisteredAsync(Guid conversationId, Guid messageId, string error)
    {
        await store.SaveFinalAsync(new FinalMessage(messageId, "", MessageStatus.Failed, 0, error), CancellationToken.None);
        WorkerLog.GenerationFinished(logger, messageId, conversationId, MessageStatus.Failed, 0, 0);
    }

    /// <summary>
    /// A TTL change of the answer's keys around its save: with Redis away it is skipped (they keep the TTL they had), and
    /// the save goes on.
    /// </summary>
    private static async Task BestEffortAsync(Task expiry)
    {
        try
        {
            await expiry;
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
        }
    }
}
