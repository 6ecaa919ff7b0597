using ChatStreaming.Contracts;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// The generation slots: <see cref="ChatStreamingOptions.MaxConcurrentGenerations"/> loops, each taking the next queued
/// answer and running it to its end (<see cref="AnswerGenerator"/>). On stop: no new answers, the running ones get
/// Chat:ShutdownGrace, and what never started ends truthfully (interrupted, saved and announced).
/// </summary>
internal sealed class GeneratorService(
    GenerationQueue queue,
    AnswerGenerator generator,
    OwnedAnswers owned,
    GenerationFinisher finisher,
    IOptions<ChatStreamingOptions> options,
    TimeProvider timeProvider,
    ILogger<GeneratorService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slots = options.Value.MaxConcurrentGenerations;
        WorkerLog.GeneratorStarted(logger, slots, queue.Capacity);
        await Task.WhenAll(Enumerable.Range(0, slots).Select(_ => RunSlotAsync(stoppingToken)));

        // Stopping: what is still queued never started; end each one truthfully instead of leaving it "streaming".
        queue.Complete();
        while (queue.Reader.TryRead(out var job))
        {
            try
            {
                await finisher.EndAsync(job.ConversationId, job.AssistantMessageId, new ModelOutcome(MessageStatus.Interrupted, "the server shut down before the answer started"));
            }
            catch (Exception ex)
            {
                // Postgres stayed away through every retry: another instance's sweep ends it later. The others are still tried.
                WorkerLog.FinishFailed(logger, ex, job.AssistantMessageId);
            }
            finally
            {
                owned.Release(job.AssistantMessageId);
            }
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
                try
                {
                    await generator.RunAsync(job, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // RunAsync ends every answer itself; this is a bug, and a slot that ended would stop the host.
                    WorkerLog.SlotFailed(logger, ex, job.AssistantMessageId);
                    await EndAbandonedAsync(job);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// The answer of a job that threw out of the generator before ending it (still owned here: the generator releases
    /// every answer it ends) ends failed, with what a takeover's replay buffer held: left as it was, its lease would be
    /// renewed here and it would stream forever.
    /// </summary>
    private async Task EndAbandonedAsync(GenerationJob job)
    {
        if (!owned.Owns(job.AssistantMessageId))
        {
            return;
        }

        try
        {
            var streamed = job.Resume?.From is { } from ? new RelayResult(from.Content, from.Parts, from.LastSequence, 0, null) : null;
            var status = streamed?.LastSequence > 0 ? MessageStatus.Interrupted : MessageStatus.Failed;
            await finisher.EndAsync(job.ConversationId, job.AssistantMessageId, new ModelOutcome(status, AnswerGenerator.NotGenerated), streamed, epoch: job.Answer.Epoch);
        }
        catch (Exception ex)
        {
            WorkerLog.FinishFailed(logger, ex, job.AssistantMessageId); // Postgres stayed away: the sweep ends it once its lease lapses
        }
        finally
        {
            owned.Release(job.AssistantMessageId);
        }
    }
}
