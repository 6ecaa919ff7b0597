using Polly;
using Polly.Retry;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>Retry pipelines for Redis being away (restarting, paused, not started yet): exponential backoff with jitter.</summary>
public static class RedisRetries
{
    public static ResiliencePipeline Create(int maxAttempts, TimeSpan delay, TimeSpan maxDelay) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsRedisFailure),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = delay,
            MaxDelay = maxDelay,
            MaxRetryAttempts = maxAttempts,
        })
        .Build();

    /// <summary>
    /// Redis could not be reached or did not answer in time. <see cref="RedisTimeoutException"/> is a
    /// <see cref="TimeoutException"/>, not a <see cref="RedisException"/>: a paused or overloaded Redis throws it.
    /// </summary>
    public static bool IsRedisFailure(Exception exception) => exception is RedisException or RedisTimeoutException;
}
