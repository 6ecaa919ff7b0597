using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;

namespace ChatStreaming.Persistence;

/// <summary>
/// Bounded retries with exponential backoff and jitter for transient Postgres failures (server down or restarting,
/// connection refused or dropped): about 45 s in all, then the error surfaces. Only idempotent work goes through it.
/// </summary>
public sealed partial class PostgresRetry
{
    private readonly ResiliencePipeline pipeline;

    public PostgresRetry(ILogger<PostgresRetry> logger)
    {
        pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(e => e.IsTransient).Handle<TimeoutException>(),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(5),
                MaxRetryAttempts = 12,
                OnRetry = args =>
                {
                    Retrying(logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.GetType().Name);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(action, cancellationToken);

    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(action, cancellationToken);

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, Message = "Postgres unavailable ({Error}); attempt {Attempt} in {DelayMs:0} ms")]
    private static partial void Retrying(ILogger logger, int attempt, double delayMs, string? error);
}
