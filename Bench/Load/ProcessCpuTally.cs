namespace ChatStreaming.Bench.Load;

/// <summary>
/// The CPU a changing set of processes used since the first reading (Postgres's backends, which come and go with the
/// pools): each process counted by what it used between readings. A process that appears between two readings counts
/// all its time; one that exits loses only its time since the last reading; a process id reused by a newer process
/// whose time is below the old one's counts nothing for that reading. The total never goes down.
/// </summary>
internal sealed class ProcessCpuTally
{
    private readonly object gate = new();
    private Dictionary<int, double> seen = [];
    private double used;
    private bool first = true;

    /// <summary>Takes a reading (CPU seconds by process id, now) and returns the seconds used since the first one.</summary>
    public double Read(IReadOnlyDictionary<int, double> now)
    {
        lock (gate)
        {
            foreach (var (pid, seconds) in now)
            {
                used += seen.TryGetValue(pid, out var before) ? Math.Max(0, seconds - before) : first ? 0 : seconds;
            }

            seen = new Dictionary<int, double>(now);
            first = false;
            return used;
        }
    }
}
