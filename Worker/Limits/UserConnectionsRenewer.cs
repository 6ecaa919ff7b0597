using ChatStreaming.Worker.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Limits;

/// <summary>Renews this instance's entries in the per-user connection counts every third of a lease.</summary>
internal sealed class UserConnectionsRenewer(
    UserConnections connections, TimeProvider timeProvider, IOptions<ChatStreamingOptions> options, ILogger<UserConnectionsRenewer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.GenerationLease / 3, timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await connections.RenewAsync();
            }
            catch (Exception ex)
            {
                // Redis away, or anything else: the next tick tries again (a loop that ended would stop the host).
                WorkerLog.ConnectionRenewalFailed(logger, ex);
            }
        }
    }
}
