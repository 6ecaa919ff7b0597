using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// The first step of a graceful stop, before any service (the web server included) stops: the instance reports itself
/// not ready and keeps serving for <see cref="ChatStreamingOptions.DrainDelay"/>, so a load balancer polling
/// /health/ready moves new users elsewhere first. Then the generator stops taking answers and its grace begins (it stops after this service).
/// </summary>
internal sealed class DrainService(DrainSignal drain, IOptions<ChatStreamingOptions> options, TimeProvider timeProvider) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        drain.Begin();
        try
        {
            await Task.Delay(options.Value.DrainDelay, timeProvider, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // the host's shutdown timeout ran out: stop now
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
