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
    /// <summary>The error of an answer still queued when the instance stopped (past Chat:ShutdownGrace).</summary>
    public const string NotStarted = "the server shut down before the answer started";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slots = options.Value.MaxConcurrentGenerations;
        WorkerLog.GeneratorStarted(logger, slots, queue.Capacity);
        await Task.WhenAll(Enumerable.Range(0, slots).Select(_ => RunSlotAsync(stoppingToken)));

        // Stopping: what is still queued never started; end each one truthfully instead of leaving it "streaming".
        queue.Complete();
        while (queue.Reader.TryRead(out var job))
        {
            await EndUnrunAsync(job, MessageStatus.Interrupted, NotStarted);
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
                if (stoppingToken.IsCancellationRequested)
                {
                    // The grace ran out with jobs still queued (the reader hands out what is queued before it sees the
                    // stop): each ends as never started, not started and then cut.
                    await EndUnrunAsync(job, MessageStatus.Interrupted, NotStarted);
                    continue;
                }

                try
                {
                    await generator.RunAsync(job, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // RunAsync ends every answer itself; this is a bug, and a slot that ended would stop the host.
                    WorkerLog.SlotFailed(logger, ex, job.AssistantMessageId);
                    if (owned.Owns(job.AssistantMessageId))
                    {
                        // Not ended (the generator releases every answer it ends): left so, its lease would be renewed
                        // here and it would stream forever.
                        await EndUnrunAsync(job, MessageStatus.Failed, AnswerGenerator.NotGenerated);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Ends the answer of a job the generator did not run to its end (still queued when the instance stops, or thrown
    /// out of the generator unended) with <paramref name="status"/>, saved and announced, and releases it. A takeover's
    /// job ends under the epoch it won, with what its replay buffer held (then <c>interrupted</c>). A failure is logged
    /// and the next job is still ended: once the answer's lease lapses, another instance's sweep ends it.
    /// </summary>
    private async Task EndUnrunAsync(GenerationJob job, MessageStatus status, string error)
    {
        try
        {
            var streamed = RelayResult.Before(job.Resume?.From);
            var outcome = new ModelOutcome(streamed.LastSequence > 0 ? MessageStatus.Interrupted : status, error);
            await finisher.EndAsync(job.ConversationId, job.AssistantMessageId, outcome, streamed, job.Resume is null ? null : job.Model, job.Answer.Epoch); // the model that answered: a takeover's
        }
        catch (Exception ex)
        {
            WorkerLog.FinishFailed(logger, ex, job.AssistantMessageId);
        }
        finally
        {
            owned.Release(job.AssistantMessageId);
        }
    }
}
