namespace ChatStreaming.Hub.Tests.Infrastructure;

internal static class Wait
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    /// <summary>Polls a condition until it holds; fails with <paramref name="because"/> after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string because)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!await condition())
        {
            try
            {
                await Task.Delay(25, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{because} (waited {timeout.TotalSeconds:0.#} s)");
            }
        }
    }

    public static Task UntilAsync(Func<bool> condition, TimeSpan timeout, string because) =>
        UntilAsync(() => Task.FromResult(condition()), timeout, because);

    /// <summary>Awaits a task with a timeout, so no test hangs.</summary>
    public static async Task<T> WithTimeout<T>(this Task<T> task, TimeSpan? timeout = null)
    {
        return await task.WaitAsync(timeout ?? Default);
    }

    public static async Task WithTimeout(this Task task, TimeSpan? timeout = null)
    {
        await task.WaitAsync(timeout ?? Default);
    }
}
