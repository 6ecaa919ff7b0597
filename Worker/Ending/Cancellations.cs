using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Registry;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// The cancellation channel (<see cref="RedisKeys.Cancellations"/>), both ways: any instance publishes the id of an
/// answer to stop, and every instance listens and stops it if it runs here. Pub/sub delivers at most once, so the flag
/// in Redis stays the truth (<see cref="CancelFlagPoller"/> reads it); this is the fast path.
/// </summary>
internal sealed class Cancellations(
    IConnectionMultiplexer redis,
    OwnedAnswers owned,
    ResiliencePipelineProvider<string> pipelines,
    ILogger<Cancellations> logger) : BackgroundService
{
    public Task PublishAsync(Guid messageId) => redis.GetSubscriber().PublishAsync(RedisKeys.Cancellations, messageId.ToString());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ChannelMessageQueue cancellations;
        try
        {
            // Redis may be down at start: keep trying; generation does not wait for it.
            cancellations = await pipelines.GetPipeline(RedisRetries.UntilAvailable)
                .ExecuteAsync(async _ => await redis.GetSubscriber().SubscribeAsync(RedisKeys.Cancellations), stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        cancellations.OnMessage(message =>
        {
            if (Guid.TryParse((string?)message.Message, out var messageId) && owned.TryCancel(messageId))
            {
                WorkerLog.CancelReceived(logger, messageId);
            }
        });
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await cancellations.UnsubscribeAsync();
    }
}
