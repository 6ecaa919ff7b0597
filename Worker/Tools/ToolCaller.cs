namespace ChatStreaming.Worker.Tools;

/// <summary>
/// Whom a tool works for: the owner of the answer being generated and its conversation. The generator sets it around
/// the model call; a tool (run by the function invocation in the same async flow) reads <see cref="Current"/> and must
/// scope what it reads or does to <see cref="UserId"/>.
/// </summary>
public sealed record ToolCaller(string UserId, Guid ConversationId)
{
    private static readonly AsyncLocal<ToolCaller?> current = new();

    /// <summary>The caller of the answer being generated; null outside a generation.</summary>
    public static ToolCaller? Current => current.Value;

    /// <summary>Sets the caller for the rest of this async flow; dispose to restore the previous one.</summary>
    public static IDisposable Enter(ToolCaller caller)
    {
        var previous = current.Value;
        current.Value = caller;
        return new Restore(previous);
    }

    private sealed class Restore(ToolCaller? previous) : IDisposable
    {
        public void Dispose() => current.Value = previous;
    }
}
