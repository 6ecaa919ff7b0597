using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Retry;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>
/// Retry pipelines for Redis being away (restarting, paused, not started yet): exponential backoff with jitter,
/// registered by name in DI (<see cref="Register"/>; resolve them with <c>ResiliencePipelineProvider&lt;string&gt;</c>),
/// so Polly's telemetry (the "Polly" meter) counts their retries. None of them runs on the chunk path's common case: a
/// chunk is written without a pipeline, and only a failed write goes through <see cref="Chunks"/>.
/// </summary>
public static class RedisRetries
{
    /// <summary>A chunk whose write failed: a few seconds, then the relay offers it again with the next one.</summary>
    public const string Chunks = "redis-chunks";

    /// <summary>The Redis side of an answer's end (final status, the end event): a few seconds more.</summary>
    public const string Endings = "redis-endings";

    /// <summary>Redis away at start-up (the cancel subscription): retried until it answers or the host stops.</summary>
    public const string UntilAvailable = "redis-until-available";

    internal static void Register(IServiceCollection services)
    {
        Add(services, Chunks, maxAttempts: 6, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2));
        Add(services, Endings, maxAttempts: 8, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(3));
        Add(services, UntilAvailable, int.MaxValue, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5));
    }

    private static void Add(IServiceCollection services, string name, int maxAttempts, TimeSpan delay, TimeSpan maxDelay) =>
        services.AddResiliencePipeline(name, builder => builder.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsRedisFailure),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = delay,
            MaxDelay = maxDelay,
            MaxRetryAttempts = maxAttempts,
        }));

    /// <summary>
    /// Redis could not be reached or did not answer in time. <see cref="RedisTimeoutException"/> is a
    /// <see cref="TimeoutException"/>, not a <see cref="RedisException"/>: a paused or overloaded Redis throws it.
    /// </summary>
    public static bool IsRedisFailure(Exception exception) => exception is RedisException or RedisTimeoutException;
}
