using System.Collections.Concurrent;

namespace ChatStreaming.Worker;

/// <summary>
/// One clock for the many short waits every running answer makes (the simulated model's pace per token, a relay's
/// linger per chunk, <see cref="Streaming.ChunkPacing"/>): one periodic timer (every <see cref="Resolution"/>) and a
/// wheel of waits keyed by the tick they are due, instead of a timer per wait — at 1000 streams × 50 tokens a second
/// that is one timer instead of 50,000 timer arms a second. Each wait wakes once, at most one resolution late; a delta
/// is timestamped when it is taken, so the latency the app measures is unaffected.
/// The timer runs only while a wait is pending: an idle instance does not wake 200 times a second.
/// </summary>
internal sealed class CoarseClock(TimeProvider timeProvider) : IDisposable
{
    public static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(5);

    // Invariants: every pending wait is in the bucket of its due tick; a tick completes and removes every bucket up to it.
    // While a wait is pending the tick loop runs: a wait is added before the loop is ensured, and the loop stops only
    // when it finds no wait under startLock, where it also clears `running` (so the next wait starts a new loop).
    private readonly ConcurrentDictionary<long, TaskCompletionSource> due = new();
    private readonly long origin = timeProvider.GetTimestamp();
    private readonly CancellationTokenSource stopping = new();
    private readonly object startLock = new();
    private long completedThrough;
    private bool running;
    private Task? ticking;

    /// <summary>
    /// Completes once <paramref name="delay"/> has passed (rounded up to the next tick), or is cancelled; a delay of at
    /// most <see cref="UnregisteredWait"/> is not cut short by a cancel (the caller checks the token after it).
    /// </summary>
    public Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return Task.CompletedTask;
        }

        var tick = (long)Math.Ceiling((timeProvider.GetElapsedTime(origin) + delay) / Resolution);
        if (tick <= Volatile.Read(ref completedThrough))
        {
            return Task.CompletedTask;
        }

        var wait = due.GetOrAdd(tick, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        EnsureTicking();
        if (tick <= Volatile.Read(ref completedThrough))
        {
            Release(tick); // the tick passed while this wait was being added
        }

        // A short wait (a token's pace) is not registered with the token: its caller checks the token right after it, so
        // a cancel waits at most UnregisteredWait. Registering every token of every answer cost ~1 % of a hub's CPU under
        // the benchmark's load (docs/benchmarks-profile.md, "the append script by its hash").
        return cancellationToken.CanBeCanceled && delay > UnregisteredWait ? wait.WaitAsync(cancellationToken) : wait;
    }

    /// <summary>The longest wait that does not register with its cancellation token.</summary>
    public static readonly TimeSpan UnregisteredWait = TimeSpan.FromMilliseconds(50);

    private void EnsureTicking()
    {
        lock (startLock)
        {
            if (!running)
            {
                running = true;
                ticking = TickAsync(stopping.Token);
            }
        }
    }

    private async Task TickAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Resolution, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var now = (long)Math.Floor(timeProvider.GetElapsedTime(origin) / Resolution);
                Volatile.Write(ref completedThrough, now);
                foreach (var tick in due.Keys)
                {
                    if (tick <= now)
                    {
                        Release(tick);
                    }
                }

                lock (startLock)
                {
                    if (due.IsEmpty)
                    {
                        running = false; // nothing pending: the next wait starts the loop again
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private void Release(long tick)
    {
        if (due.TryRemove(tick, out var waiting))
        {
            waiting.TrySetResult();
        }
    }

    public void Dispose()
    {
        stopping.Cancel();
        stopping.Dispose();
    }
}
