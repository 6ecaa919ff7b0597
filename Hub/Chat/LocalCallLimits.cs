using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using ChatStreaming.Server.Telemetry;
using ChatStreaming.Worker.Diagnostics;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// The per-user call limits while Redis is unreachable: the same limit per minute, counted by this instance alone
/// (a fixed window per user and kind, System.Threading.RateLimiting), so reads keep answering without Redis and a
/// user is still limited — at most once per instance instead of once for all of them. Counted on
/// <c>chatstreaming_limits_counted_locally_total</c>; a warning at most every 30 s (log event 2015).
/// </summary>
public sealed class LocalCallLimits(IMeterFactory meterFactory, ILogger<LocalCallLimits> logger) : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan WarnEvery = TimeSpan.FromSeconds(30);

    private readonly Counter<long> counted = meterFactory.Create(WorkerMetrics.ReadsMeterName).CreateCounter<long>(
        "chatstreaming.limits.counted_locally", "{call}", "Hub calls whose per-user limit this instance counted alone because Redis was unreachable");

    private readonly PartitionedRateLimiter<(string User, string Kind, int PerMinute)> limiter =
        PartitionedRateLimiter.Create<(string User, string Kind, int PerMinute), (string, string, int)>(key =>
            RateLimitPartition.GetFixedWindowLimiter(key, k => new FixedWindowRateLimiterOptions { PermitLimit = k.Item3, Window = Window, QueueLimit = 0 }));

    private long lastWarning;

    /// <summary>Counts one call; null when it may run, else how long until it may.</summary>
    public TimeSpan? Count(string userId, string kind, int perMinute, string method)
    {
        counted.Add(1, new KeyValuePair<string, object?>("kind", kind));
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref lastWarning);
        if (now - last >= WarnEvery.TotalMilliseconds && Interlocked.CompareExchange(ref lastWarning, now, last) == last)
        {
            ServerLog.CallLimitCountedLocally(logger, method);
        }

        using var lease = limiter.AttemptAcquire((userId, kind, perMinute));
        return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : Window;
    }

    public void Dispose() => limiter.Dispose();
}
