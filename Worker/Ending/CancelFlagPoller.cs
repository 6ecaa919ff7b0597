using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// The cancel notice comes by pub/sub (<see cref="Cancellations"/>), which delivers at most once (a subscription being
/// re-established after a Redis failover misses it); the flag in Redis is the truth, so every <see cref="Interval"/>
/// the flags of every answer running here are read, in one pipelined batch (one round trip, however many answers).
/// </summary>
internal sealed class CancelFlagPoller(
    OwnedAnswers owned,
    GenerationState state,
    TimeProvider timeProvider,
    ILogger<CancelFlagPoller> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, timeProvider);
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
                catch (Exception ex)
                {
                    WorkerLog.CancelPollFailed(logger, ex); // the next tick tries again (a loop that ended would stop the host)
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
