namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>Runs <paramref name="dispose"/> at the end of an <c>await using</c>: for a fixture type started inside one test.</summary>
internal sealed class AsyncDisposer(Func<Task> dispose) : IAsyncDisposable
{
    public async ValueTask DisposeAsync() => await dispose();
}
