using ChatStreaming.Worker.Generation;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ChatStreaming.Server.Health;

/// <summary>
/// Ready only while this instance takes new answers: not while it drains for shutdown (a load balancer should send new
/// users elsewhere; running answers go on), not while its generator queue is full (it would answer "busy").
/// </summary>
internal sealed class GeneratorHealthCheck(GenerationQueue queue) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            queue.IsDraining ? HealthCheckResult.Unhealthy("draining: shutting down; send new users elsewhere")
            : queue.IsFull ? HealthCheckResult.Unhealthy($"saturated: the generator queue is full ({queue.Count}/{queue.Capacity})")
            : HealthCheckResult.Healthy($"{queue.Count}/{queue.Capacity} queued"));
}
