using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatStreaming.Worker;

public static class HostExit
{
    /// <summary>
    /// Runs the host until it stops, then gives the process's exit code: 1 when one of its background services failed,
    /// else 0. The host stops itself when one fails, and the process would exit 0 as after a requested stop
    /// (dotnet/runtime#67146): an orchestrator would see no crash, and not restart the instance.
    /// </summary>
    public static async Task<int> RunToExitCodeAsync(this IHost host, CancellationToken cancellationToken = default)
    {
        BackgroundService[] services = [.. host.Services.GetServices<IHostedService>().OfType<BackgroundService>()];
        await host.RunAsync(cancellationToken);
        return services.Any(s => s.ExecuteTask is { IsFaulted: true }) ? 1 : 0;
    }
}
