using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Registry;
using Polly.Retry;

namespace ChatStreaming.Persistence;

/// <summary>
/// The two Postgres retry pipelines, registered by name in DI (<see cref="Register"/>; Polly.Extensions gives them
/// telemetry: the "Polly" meter counts their retries). <see cref="ExecuteAsync{T}"/>: bounded retries with exponential
/// backoff and jitter for transient failures (server down or restarting, connection refused or dropped), about 45 s in
/// all, then the error surfaces. Only idempotent work goes through them.
/// </summary>
public sealed class PostgresRetry(ResiliencePipelineProvider<string> pipelines)
{
    /// <summary>Saves and other background writes: about 45 s of retries.</summary>
    public const string WritesPipeline = "postgres-writes";

    /// <summary>Calls a user waits for: a pooled connection that a Postgres restart broke fails once; retry on a fresh one.</summary>
    public const string InteractivePipeline = "postgres-interactive";

    private readonly ResiliencePipeline pipeline = pipelines.GetPipeline(WritesPipeline);
    private readonly ResiliencePipeline readPipeline = pipelines.GetPipeline(InteractivePipeline);

    internal static void Register(IServiceCollection services)
    {
        services.AddResiliencePipeline(WritesPipeline, (builder, context) => builder.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(IsTransient).Handle<TimeoutException>(),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(5),
            MaxRetryAttempts = 12,
            OnRetry = args =>
            {
                var logger = context.ServiceProvider.GetRequiredService<ILogger<PostgresRetry>>();
                PersistenceLog.Retrying(logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception?.GetType().Name);
                return ValueTask.CompletedTask;
            },
        }));
        services.AddResiliencePipeline(InteractivePipeline, builder => builder.AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(IsTransient),
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(50),
            MaxRetryAttempts = 3,
        }));
    }

    /// <summary>
    /// Transient: the server is unreachable, restarting or shutting down (including "terminating connection due to
    /// administrator command" on a pooled connection after a restart), or out of resources.
    /// </summary>
    public static bool IsTransient(NpgsqlException exception) =>
        exception.IsTransient
        || exception is PostgresException { SqlState: "57P01" or "57P02" or "57P03" }
        || exception.SqlState?.StartsWith("08", StringComparison.Ordinal) == true;

    /// <summary>
    /// A call a user waits for (reads, and writes made idempotent by their ids): a few quick retries (a broken pooled
    /// connection, a blip), then the error surfaces.
    /// </summary>
    public ValueTask<T> ExecuteInteractiveAsync<T>(Func<CancellationToken, ValueTask<T>> read, CancellationToken cancellationToken) =>
        readPipeline.ExecuteAsync(read, cancellationToken);

    public ValueTask ExecuteAsync(Func<CancellationToken, ValueTask> action, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(action, cancellationToken);

    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(action, cancellationToken);
}
