using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Generation;

/// <summary>Sends generation events to every connection in a conversation, on every instance (the hub implements it).</summary>
public interface IChatBroadcaster
{
    Task GenerationStartedAsync(GenerationStarted started);

    Task ChunkAsync(Chunk chunk);

    Task GenerationFinishedAsync(GenerationFinished finished);
}
