using ChatStreaming.Worker;

namespace ChatStreaming.Hub.Tests.Streaming;

/// <summary>The shared clock of the simulated model's pace and the relays' linger, alone.</summary>
public sealed class CoarseClockTests
{
    [Fact]
    public async Task TheClocksLongWaitEndsAtACancelAndAShortOneRunsItsCourse()
    {
        using var clock = new CoarseClock(TimeProvider.System);
        using var cancel = new CancellationTokenSource();
        var longWait = clock.DelayAsync(TimeSpan.FromMinutes(1), cancel.Token);
        var shortWait = clock.DelayAsync(CoarseClock.UnregisteredWait, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => longWait.WaitAsync(TimeSpan.FromSeconds(30)));
        await shortWait.WaitAsync(TimeSpan.FromSeconds(30)); // not cut short: its caller checks the token right after it
        Assert.True(shortWait.IsCompletedSuccessfully);
    }
}
