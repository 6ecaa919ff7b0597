namespace ChatStreaming.Worker.Redis;

/// <summary>
/// This process among the hub instances sharing Redis: a new id at every start. Its heartbeat
/// (<see cref="RedisKeys.Instance"/>) says it is alive; an answer is an orphan only when its instance's heartbeat is gone.
/// </summary>
public sealed class InstanceIdentity
{
    public string Id { get; } = Guid.NewGuid().ToString("N");
}
