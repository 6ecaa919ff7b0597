using Polly;
using Polly.Retry;
using StackExchange.Redis;

namespace ChatStreaming.Worker;

/// <summary>Retry pipelines for Redis being away (restarting, paused, not started yet): exponential backoff with jitter.</summary>
public static class RedisRetries
{
    public static ResiliencePipeline Create(int maxAttempts, TimeSpan delay, TimeSpan maxDelay) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<RedisException>(),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = delay,
            MaxDelay = maxDelay,
            MaxRetryAttempts = maxAttempts,
        })
        .Build();
}
