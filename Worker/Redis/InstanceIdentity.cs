namespace ChatStreaming.Worker.Redis;

/// <summary>
/// This process among the hub instances sharing Redis: a new id at every start. Its heartbeat
/// (<see cref="RedisKeys.Instance"/>) says it is alive; an answer is an orphan only when its instance's heartbeat is gone.
/// The id also marks the conversation events it publishes, so it skips its own (it delivered them locally already).
/// </summary>
internal sealed class InstanceIdentity
{
    public InstanceIdentity() => Id = Value.ToString("N");

    public Guid Value { get; } = Guid.NewGuid();

    public string Id { get; }
}
