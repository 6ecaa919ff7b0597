namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// One event for this instance's connections (a hub method and its one argument). The same instance goes to every
/// local member of a conversation, so the host serializes it once per protocol (<see cref="Serialized"/>), not once
/// per connection.
/// </summary>
public sealed class OutboundMessage(string method, object argument)
{
    private object? serialized;

    public string Method { get; } = method;

    public object Argument { get; } = argument;

    /// <summary>The host's serialized form, made by the first connection that writes it and reused by the others.</summary>
    public T Serialized<T>(Func<OutboundMessage, T> serialize)
        where T : class
    {
        if (Volatile.Read(ref serialized) is T made)
        {
            return made;
        }

        var mine = serialize(this);
        return Interlocked.CompareExchange(ref serialized, mine, null) as T ?? mine;
    }
}
