using System.Collections.Concurrent;
using System.Threading.Channels;
using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker;

/// <summary>
/// Runs queued generations, <see cref="ChatStreamingOptions.MaxConcurrentGenerations"/> at a time. Per answer: stream the
/// model's deltas through a <see cref="ChunkRelay"/> into Redis and the backplane, decide the final status once (Redis),
/// save the final message once (Postgres), then announce the end.
/// </summary>
public sealed class GeneratorService(
    GenerationQueue queue,
    ReplayStore replay,
    ChatStore store,
    PostgresRetry retry,
    IChatClient chatClient,
    IChatBroadcaster broadcaster,
    IConnectionMultiplexer redis,
    TimeProvider timeProvider,
    IOptions<ChatStreamingOptions> options,
    ILogger<GeneratorService> logger) : BackgroundService
{
    // Invariant: holds exactly the generations running on this instance; a cancel for one of them cancels its source.
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> running = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var cancellations = await redis.GetSubscriber().SubscribeAsync(RedisKeys.Cancellations);
        cancellations.OnMessage(message =>
        {
            if (Guid.TryParse((string?)message.Message, out var messageId) && running.TryGetValue(messageId, out var generation))
            {
                WorkerLog.CancelReceived(logger, messageId);
                generation.Cancel();
            }
        });

        var slots = options.Value.MaxConcurrentGenerations;
        WorkerLog.GeneratorStarted(logger, slots, queue.Capacity);
        await Task.WhenAll(Enumerable.Range(0, slots).Select(_ => RunSlotAsync(stoppingToken)));

        // Stopping: what is still queued never started; end each one truthfully instead of leaving it "streaming".
        queue.Complete();
        while (queue.Reader.TryRead(out var job))
        {
            await FinishAsync(job, MessageStatus.Interrupted, new RelayResult("", 0, 0, null), "the server shut down before the answer started");
        }

        await cancellations.UnsubscribeAsync();
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
        using var generation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        // Registered before the cancel flag is read: a cancel is either seen by the read or delivered to this source.
        running[messageId] = generation;
        try
        {
            if (await replay.IsCancelRequestedAsync(messageId))
            {
                await FinishAsync(job, MessageStatus.Cancelled, new RelayResult("", 0, 0, null), null);
                return;
            }

            WorkerLog.GenerationStarted(logger, messageId, job.ConversationId);
            await broadcaster.GenerationStartedAsync(new GenerationStarted(job.ConversationId, messageId, job.UserMessageId));
            var deltas = Channel.CreateUnbounded<ModelDelta>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var relay = ChunkRelay.RunAsync(job.ConversationId, messageId, deltas.Reader, RelayChunkAsync, CancellationToken.None);
            var (status, error) = await ReadModelAsync(job, deltas.Writer, generation.Token, stoppingToken);
            var relayed = await relay;
            if (relayed.SinkError is not null)
            {
                WorkerLog.RelayFailed(logger, relayed.SinkError, messageId);
            }

            await FinishAsync(job, status, relayed, error);
        }
        catch (Exception ex)
        {
            WorkerLog.FinishFailed(logger, ex, messageId);
        }
        finally
        {
            running.TryRemove(messageId, out _);
        }
    }

    private async Task RelayChunkAsync(Chunk chunk)
    {
        await replay.AppendAsync(chunk); // before the broadcast: a client that sees a gap can fetch it
        await broadcaster.ChunkAsync(chunk);
    }

    private async Task<(MessageStatus Status, string? Error)> ReadModelAsync(
        GenerationJob job, ChannelWriter<ModelDelta> deltas, CancellationToken generationToken, CancellationToken stoppingToken)
    {
        try
        {
            List<ChatMessage> messages = [new(ChatRole.User, job.Prompt)];
            await foreach (var update in chatClient.GetStreamingResponseAsync(messages, null, generationToken))
            {
                var text = update.Text;
                if (text.Length > 0)
                {
                    deltas.TryWrite(new ModelDelta(text, NowMilliseconds()));
                }
            }

            return (MessageStatus.Completed, null);
        }
        catch (OperationCanceledException) when (generationToken.IsCancellationRequested)
        {
            return stoppingToken.IsCancellationRequested
                ? (MessageStatus.Interrupted, "the server shut down during the answer")
                : (MessageStatus.Cancelled, null);
        }
        catch (Exception ex)
        {
            WorkerLog.ModelFailed(logger, ex, job.AssistantMessageId);
            return (MessageStatus.Failed, "the model failed to answer");
        }
        finally
        {
            deltas.TryComplete();
        }
    }

    /// <summary>Final status (Redis, once), then the save (Postgres, once), then the announcement.</summary>
    private async Task FinishAsync(GenerationJob job, MessageStatus proposed, RelayResult relayed, string? error)
    {
        var messageId = job.AssistantMessageId;
        var status = await replay.FinishAsync(messageId, proposed);
        if (status != proposed)
        {
            error = null; // a cancel request won
        }

        var final = new FinalMessage(messageId, relayed.Content, status, relayed.LastSequence, error);
        // Idempotent (only a message still streaming is written), so retrying through a Postgres outage cannot duplicate.
        var saved = await retry.ExecuteAsync(ct => new ValueTask<bool>(store.SaveFinalAsync(final, ct)), CancellationToken.None);
        if (!saved)
        {
            WorkerLog.AlreadySaved(logger, messageId);
        }

        WorkerLog.GenerationFinished(logger, messageId, job.ConversationId, status, relayed.LastSequence, relayed.Deltas);
        await broadcaster.GenerationFinishedAsync(
            new GenerationFinished(job.ConversationId, messageId, status, relayed.LastSequence, relayed.Content, error));
    }

    private double NowMilliseconds() => (timeProvider.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalMilliseconds;
}
