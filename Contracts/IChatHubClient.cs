namespace ChatStreaming.Contracts;

/// <summary>The events the hub sends to every connection in a conversation's group, on every instance.</summary>
public interface IChatHubClient
{
    Task MessageAdded(Message message);

    Task GenerationStarted(GenerationStarted started);

    Task ReceiveChunk(Chunk chunk);

    Task GenerationFinished(GenerationFinished finished);
}
