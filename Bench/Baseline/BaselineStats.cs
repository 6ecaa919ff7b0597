using System.Collections.Concurrent;

namespace ChatStreaming.Bench.Baseline;

/// <summary>What a baseline server measured: producer write times and polls.</summary>
internal sealed class BaselineStats
{
    private readonly ConcurrentQueue<double> writes = new();
    private long polls;
    private long emptyPolls;

    public void Write(double milliseconds) => writes.Enqueue(milliseconds);

    public void Poll(bool empty)
    {
        Interlocked.Increment(ref polls);
        if (empty)
        {
            Interlocked.Increment(ref emptyPolls);
        }
    }

    public BaselineSnapshot TakeAndReset()
    {
        var taken = new List<double>();
        while (writes.TryDequeue(out var w))
        {
            taken.Add(w);
        }

        return new BaselineSnapshot(taken, Interlocked.Exchange(ref polls, 0), Interlocked.Exchange(ref emptyPolls, 0));
    }
}

internal sealed record BaselineSnapshot(List<double> WriteMilliseconds, long Polls, long EmptyPolls);
