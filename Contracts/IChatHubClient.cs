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

    /// <summary>
    /// Consecutive chunks in one frame, in order (each with its own sequence), instead of one <see cref="ReceiveChunk"/>
    /// each: sent only to a connection that asked for it (<see cref="ChatHubPaths.ChunkBatchesParameter"/>) while its
    /// queue is backing up. Handle each chunk exactly as a <see cref="ReceiveChunk"/>.
    /// </summary>
    Task ReceiveChunks(IReadOnlyList<Chunk> chunks);

    Task GenerationFinished(GenerationFinished finished);

    /// <summary>An answer whose instance stopped goes on from another one (Chat:Failover = Continue).</summary>
    Task GenerationResumed(GenerationResumed resumed);

    Task ConversationCreated(Conversation conversation);

    Task ConversationUpdated(Conversation conversation);

    Task ConversationDeleted(ConversationDeleted deleted);
}
