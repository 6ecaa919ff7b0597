using System.Diagnostics;
using System.Threading.Channels;
using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using ChatStreaming.Worker.Tools;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// One answer from its start to its end: stream the model's deltas through a <see cref="ChunkRelay"/> into Redis
/// (<see cref="ChunkSink"/>), then end it through the <see cref="GenerationFinisher"/> (status decided once, saved once,
/// announced) and count its tokens (<see cref="UsageCharge"/>, <see cref="TokenSpender"/>). Whatever fails, the answer ends.
/// </summary>
internal sealed class AnswerGenerator(
    OwnedAnswers owned,
    GenerationState state,
    ChatStore store,
    GenerationFinisher finisher,
    ModelStreamReader model,
    BackgroundResponses backgroundResponses,
    ModelCatalog models,
    ChunkSink sink,
    ChunkPacing pacing,
    TokenSpender tokens,
    IChatBroadcaster broadcaster,
    InstanceIdentity instance,
    WorkerMetrics metrics,
    TimeProvider timeProvider,
    ILogger<AnswerGenerator> logger)
{
    /// <summary>The error an answer is saved with when it failed before the model said why.</summary>
    public const string NotGenerated = "the answer could not be generated";

    public async Task RunAsync(GenerationJob job, CancellationToken stoppingToken)
    {
        var messageId = job.AssistantMessageId;
        using var activity = WorkerTracing.StartAnswerSpan("chat.generation", job.ConversationId, messageId, job.Parent);
        // Every log line of this answer, whichever class writes it (model reader, relay, finisher), carries its ids.
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["ConversationId"] = job.ConversationId, ["MessageId"] = messageId });
        metrics.QueueWait(Stopwatch.GetElapsedTime(job.QueuedAt).TotalMilliseconds);
        // Attached before the cancel flag is read: a cancel is either seen by the read or delivered to this source.
        using var generation = owned.Start(job.Answer, stoppingToken);
        metrics.GenerationStarted();
        var outcome = new ModelOutcome(MessageStatus.Failed, NotGenerated);
        // A takeover's answer already holds its dead instance's text: ended before its relay starts (a cancel that
        // came first, a failure), it is saved with that text, not empty.
        var relayed = RelayResult.Before(job.Resume?.From);
        CatalogModel? answering = null; // once chosen: its name is saved with the answer, its client cancels a background response
        // Unbounded on purpose: the model's deltas are never held back; the relay coalesces what waits (see ChunkRelay).
        var deltas = Channel.CreateUnbounded<ModelDelta>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        Task<RelayResult>? relay = null;
        AnswerChunks? chunks = null;
        long promptCharacters = 0;
        var providerResumed = false;
        var asked = false;
        try
        {
            switch (await state.StartingAsync(job.ConversationId, messageId, job.Answer.Epoch))
            {
                case AnswerStart.Cancelled:
                    outcome = new ModelOutcome(MessageStatus.Cancelled);
                    return;
                case AnswerStart.TakenOver:
                    // Before: it announced a start after the successor's, and asked (and paid) the model for an answer
                    // whose every chunk was then refused. Its end below is fenced (logged there): nothing saved or announced.
                    return;
            }

            WorkerLog.GenerationStarted(logger, messageId, job.ConversationId);
            var started = timeProvider.GetTimestamp();
            if (job.Resume is { } resume)
            {
                metrics.AnswerResumed();
                WorkerLog.AnswerTakenOver(logger, messageId, job.ConversationId, resume.From.LastSequence);
                await AnnounceAsync(messageId, () => broadcaster.GenerationResumedAsync(new GenerationResumed(job.ConversationId, messageId, resume.From.LastSequence, instance.Id)));
            }
            else
            {
                await AnnounceAsync(messageId, () => broadcaster.GenerationStartedAsync(new GenerationStarted(job.ConversationId, messageId, job.UserMessageId)));
            }

            var history = await store.GetModelHistoryAsync(job.ConversationId, job.UserMessageId, models.MaxContextMessages, generation.Token);
            // The send's model, else the conversation's, else the default (a name no longer in the catalog is the default).
            answering = models.Get(job.Model ?? history.Model);
            activity?.SetTag("chat.model", answering.Name);
            chunks = sink.Open(job.ConversationId, messageId, job.Answer.Epoch);
            var answer = chunks;
            relay = ChunkRelay.RunAsync(job.ConversationId, messageId, deltas.Reader, (chunk, continuation) => sink.WriteAsync(answer, chunk, continuation, started, generation), CancellationToken.None, job.Resume?.From, pacing.GatherAsync);
            using (ToolCaller.Enter(new ToolCaller(job.OwnerId, job.ConversationId)))
            {
                var messages = ConversationContext.Build(answering.Options, history.Messages, job.Prompt, history.SystemPrompt);
                promptCharacters = ConversationContext.Characters(messages);
                byte[]? resumeAfter = null;
                if (job.Resume is { } taken)
                {
                    // A resumable model's stream goes on after its last chunk; any other model is asked to continue,
                    // and so is one whose answer ends on a tool call (its dead owner died while the tool ran): that
                    // round is over at the provider, so resuming it would end the answer on the call. An answer that
                    // ends on the call's result has no continuation (a result is not the provider's): asked again too.
                    if (answering.Options.Resumable && taken.ModelContinuation is { } continuation && !ModelParts.EndsOnToolCall(taken.From.Parts))
                    {
                        resumeAfter = continuation;
                        providerResumed = true;
                    }
                    else
                    {
                        messages = ConversationContext.Continue(messages, taken.From.Content, taken.From.Parts);
                    }
                }

                asked = !generation.IsCancellationRequested; // the model is not asked for an answer already cancelled
                outcome = await model.ReadAsync(answering, messages, deltas.Writer, generation.Token, stoppingToken, resumeAfter);
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
                ? new ModelOutcome(MessageStatus.Interrupted, ModelOutcome.ShutDownDuringAnswer) { BackgroundResponseId = outcome.BackgroundResponseId }
                : outcome with { Status = relayed.LastSequence > 0 ? MessageStatus.Interrupted : MessageStatus.Failed };
        }
        finally
        {
            try
            {
                owned.MarkEnding(messageId);
                if (job.Resume is not null && promptCharacters == 0)
                {
                    // A takeover ended before it built its request (cancelled while it read the conversation): its dead
                    // instance's request is still charged, as far as it is known without the conversation's history.
                    promptCharacters = ConversationContext.Characters(ConversationContext.Build((answering ?? models.Get(job.Model)).Options, [], job.Prompt));
                }

                outcome = outcome with { Usage = Charge(job, outcome, relayed, promptCharacters, providerResumed, asked) };
                if (chunks is not null)
                {
                    await sink.CompleteAsync(chunks); // what a failover took from the replay buffer, before the end
                }

                // Counted before the end is announced: a client that saw the end and sends again is checked against it.
                // A fenced owner's count is replaced by its successor's, which covers the whole answer (TokenSpender).
                await tokens.SpendAsync(job.OwnerId, job.AssistantMessageId, job.Answer.Epoch, outcome.Usage);
                if (await finisher.EndAsync(job.ConversationId, messageId, outcome, relayed, answering?.Name ?? (job.Resume is null ? null : job.Model), job.Answer.Epoch) is null)
                {
                    outcome = outcome with { Usage = null };
                    if (!providerResumed && chunks?.Written.Count is null or 0
                        && outcome.BackgroundResponseId is { } unseen && answering is not null)
                    {
                        // Fenced before a chunk of its own response was written to the buffer (each carries the
                        // response's id; a chunk the fence refused does not count): the successor never saw that
                        // response and asked the model again, so nobody reads it.
                        await backgroundResponses.CancelAsync(answering, unseen);
                    }
                }
                else if (outcome.Status != MessageStatus.Completed && outcome.BackgroundResponseId is { } responseId && answering is not null)
                {
                    // Ended here without the provider's end (cancelled, stalled, cut, shut down): nobody reads that
                    // response any more. Not when fenced (above) after a chunk of it: the successor reads it.
                    await backgroundResponses.CancelAsync(answering, responseId);
                }
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

    /// <summary>What the answer is charged: the model's report, or an estimate where it is not the whole answer's.</summary>
    private static TokenUsage? Charge(GenerationJob job, ModelOutcome outcome, RelayResult relayed, long promptCharacters, bool providerResumed, bool asked)
    {
        var inherited = job.Resume is { } resume ? UsageCharge.Characters(resume.From.Parts) : 0;
        // The resumed response's report is the whole answer's only when it was the answer's one round: each tool round
        // before it was a response of its own, reported to the instance that stopped. It covers its own round whole,
        // the text its dead owner streamed of it too: only the rounds before it are estimated beside it.
        var oneResponse = providerResumed && !ModelParts.ToolRounds(job.Resume!.From.Parts).Any();
        var unreported = providerResumed ? UsageCharge.Characters(ModelParts.EarlierRounds(job.Resume!.From.Parts)) : inherited;
        return UsageCharge.Of(
            outcome.Usage,
            wholeAnswer: outcome.Status == MessageStatus.Completed && (job.Resume is null || oneResponse),
            promptCharacters,
            Math.Max(0, UsageCharge.Characters(relayed.Parts) - unreported),
            unreported,
            oneRequest: oneResponse || !asked); // a takeover cancelled before it asked: the dead instance's request only
    }

    /// <summary>Best effort: a client not told of the start (or the resume) still gets the chunks (the first one it sees tells it).</summary>
    private async Task AnnounceAsync(Guid messageId, Func<Task> announce)
    {
        try
        {
            await announce();
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            WorkerLog.StartNotAnnounced(logger, ex, messageId);
        }
    }
}
