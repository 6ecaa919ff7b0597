using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// Ends model streams that stopped sending: one periodic check for every answer of the instance, instead of re-arming
/// a timer on every delta (at 1000 streams × 50 tokens a second, 50,000 timer changes a second). A reader
/// <see cref="Watch"/>es its stream and <see cref="Watched.Touch"/>es it on every delta (a timestamp write); the check
/// cancels a stream quiet for longer than its model's <see cref="ModelOptions.StallTimeout"/>, at most one check
/// interval late (a quarter of the catalog's shortest timeout, at most a second).
/// Invariant: a watched stream is cancelled only while it is armed (not while it waits out a Retry-After).
/// </summary>
internal sealed class StallWatchdog : IDisposable
{
    private readonly ConcurrentDictionary<Watched, byte> watched = new();
    private readonly TimeProvider timeProvider;
    private readonly TimeSpan interval;
    private readonly object startLock = new();
    private ITimer? timer;

    public StallWatchdog(TimeProvider timeProvider, ModelCatalogLayout catalog, IOptionsMonitor<ModelOptions> options)
    {
        this.timeProvider = timeProvider;
        var shortest = catalog.Names.Min(name => options.Get(name).StallTimeout);
        interval = TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
    }

    /// <summary>Starts watching (armed now) a stream that stalls after <paramref name="timeout"/>; dispose the result when it ends.</summary>
    public Watched Watch(CancellationTokenSource stall, TimeSpan timeout)
    {
        EnsureTimer();
        var entry = new Watched(this, stall, (long)(timeout.TotalSeconds * timeProvider.TimestampFrequency));
        entry.Touch();
        watched.TryAdd(entry, 0);
        return entry;
    }

    private void EnsureTimer()
    {
        if (Volatile.Read(ref timer) is not null)
        {
            return;
        }

        lock (startLock)
        {
            timer ??= timeProvider.CreateTimer(_ => Check(), null, interval, interval);
        }
    }

    private void Check()
    {
        var now = timeProvider.GetTimestamp();
        foreach (var entry in watched.Keys)
        {
            var last = Volatile.Read(ref entry.LastActivity);
            if (last != Watched.Paused && now - last > entry.TimeoutTicks)
            {
                watched.TryRemove(entry, out _);
                try
                {
                    entry.Stall.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // the stream ended meanwhile
                }
            }
        }
    }

    public void Dispose() => timer?.Dispose();

    /// <summary>One watched stream.</summary>
    public sealed class Watched(StallWatchdog owner, CancellationTokenSource stall, long timeoutTicks) : IDisposable
    {
        internal long TimeoutTicks { get; } = timeoutTicks;

        internal const long Paused = long.MaxValue;
        internal long LastActivity;

        internal CancellationTokenSource Stall { get; } = stall;

        /// <summary>The stream sent something (or is being asked again): the timeout starts over.</summary>
        public void Touch() => Volatile.Write(ref LastActivity, owner.timeProvider.GetTimestamp());

        /// <summary>Not a stall until the next <see cref="Touch"/> (waiting out a Retry-After).</summary>
        public void Pause() => Volatile.Write(ref LastActivity, Paused);

        public void Dispose() => owner.watched.TryRemove(this, out _);
    }
}
