using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// Every third of <see cref="ChatStreamingOptions.GenerationLease"/>, on its own timer (nothing else runs in its loop,
/// so a slow Postgres or a long orphan recovery never delays it): this instance's heartbeat, and the lease and state
/// of every answer it owns — re-created if Redis lost them. An answer found ended elsewhere stops generating here.
/// Registered before the generator, so it stops after it: leases live as long as the answers they cover.
/// </summary>
internal sealed class LeaseRenewer(
    OwnedAnswers owned,
    GenerationState state,
    WorkerMetrics metrics,
    TimeProvider timeProvider,
    IOptions<ChatStreamingOptions> options,
    ILogger<LeaseRenewer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.GenerationLease / 3, timeProvider);
        do
        {
            try
            {
                foreach (var messageId in await state.RenewAsync(owned.Renewable))
                {
                    if (owned.TryCancel(messageId))
                    {
                        WorkerLog.EndedElsewhere(logger, messageId);
                    }
                }

                metrics.LeaseRenewal(ok: true);
            }
            catch (Exception ex)
            {
                // Redis away, or anything else: the next tick tries again (a loop that ended would stop the host).
                metrics.LeaseRenewal(ok: false);
                WorkerLog.RenewalFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await state.StopHeartbeatAsync(); // what is still owned here can be claimed at once, not a lease later
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            WorkerLog.RenewalFailed(logger, ex);
        }
    }
}
