namespace ChatStreaming.Contracts;

/// <summary>
/// The events the hub sends: a conversation's events to every connection in its group, on every instance; the
/// conversation list's events (<c>Conversation*</c>) to every connection of its owner, on every instance.
/// </summary>
public interface IChatHubClient
{
    Task MessageAdded(Message message);

    Task GenerationStarted(GenerationStarted started);

    Task ReceiveChunk(Chunk chunk);

    Task GenerationFinished(GenerationFinished finished);

    Task ConversationCreated(Conversation conversation);

    Task ConversationUpdated(Conversation conversation);

    Task ConversationDeleted(ConversationDeleted deleted);
}
