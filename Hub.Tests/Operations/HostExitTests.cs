using ChatStreaming.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Hub.Tests.Operations;

/// <summary>
/// The Hub's exit code (<see cref="HostExit"/>): a host stopped by a failed background service exits non-zero, so an
/// orchestrator sees the crash; a requested stop exits 0.
/// </summary>
public sealed class HostExitTests
{
    [Fact]
    public async Task AHostStoppedByAFailedBackgroundServiceExitsOne()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var exitCode = await Build(new Failing()).RunToExitCodeAsync(timeout.Token); // the failure stops it

        Assert.False(timeout.IsCancellationRequested, "the host did not stop by itself");
        Assert.Equal(1, exitCode);
    }

    [Fact]
    public async Task AHostStoppedOnRequestExitsZero()
    {
        var host = Build(new Idle());
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStarted.Register(lifetime.StopApplication); // as SIGTERM does, once it runs

        Assert.Equal(0, await host.RunToExitCodeAsync().WaitAsync(TimeSpan.FromSeconds(30)));
    }

    private static IHost Build(BackgroundService service)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostedService>(service);
        return builder.Build();
    }

    private sealed class Failing : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Delay(50, stoppingToken);
            throw new InvalidOperationException("a loop that did not expect this");
        }
    }

    private sealed class Idle : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Delay(Timeout.Infinite, stoppingToken);
    }
}
