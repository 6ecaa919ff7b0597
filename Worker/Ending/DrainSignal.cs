namespace ChatStreaming.Worker.Ending;

/// <summary>
/// Set once a shutdown was requested (<see cref="DrainService"/>): the instance reports itself not ready while it still
/// takes answers for Chat:DrainDelay. The queue reads it; nothing here depends on the queue.
/// </summary>
internal sealed class DrainSignal
{
    private volatile bool draining;

    public bool IsDraining => draining;

    public void Begin() => draining = true;
}
