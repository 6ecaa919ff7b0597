using ChatStreaming.Bench.Load;

namespace ChatStreaming.Hub.Tests.Operations;

/// <summary>
/// How the benchmark counts Postgres's CPU while every pipeline's pools open and close backends: each backend by what
/// it used between readings, so a backend that exits never takes time back and one that appears brings its time once.
/// </summary>
public sealed class BenchmarkAccountingTests
{
    [Fact]
    public void BackendsThatComeAndGoAreCountedByWhatTheyUsedBetweenReadingsAndTheTotalNeverGoesDown()
    {
        var tally = new ProcessCpuTally();

        Assert.Equal(0, tally.Read(new Dictionary<int, double> { [1] = 5.0, [2] = 3.0 })); // the first reading is the baseline
        Assert.Equal(2.5, tally.Read(new Dictionary<int, double> { [1] = 5.5, [2] = 3.0, [3] = 2.0 }), 9); // 3 appeared: all its time
        Assert.Equal(3.0, tally.Read(new Dictionary<int, double> { [1] = 6.0 }), 9); // 2 and 3 exited: nothing taken back
        Assert.Equal(3.0, tally.Read(new Dictionary<int, double> { [1] = 6.0 }), 9); // idle
        Assert.Equal(3.25, tally.Read(new Dictionary<int, double> { [1] = 6.0, [2] = 0.25 }), 9); // 2 again, a new process: its own time
        Assert.Equal(3.25, tally.Read(new Dictionary<int, double> { [1] = 6.0, [2] = 0.1 }), 9); // reused again between readings, less time: nothing
    }
}
