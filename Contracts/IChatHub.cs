namespace ChatStreaming.Contracts;

/// <summary>The methods a client invokes on the hub at <see cref="ChatHubPaths.Hub"/>.</summary>
public interface IChatHub
{
    Task<Conversation> CreateConversation(string? title);

    /// <summary>The caller's conversations, newest first.</summary>
    Task<IReadOnlyList<Conversation>> ListConversations();

    /// <summary>Adds the connection to the conversation's group, then returns its newest messages (oldest first).</summary>
    Task<ConversationSnapshot> JoinConversation(Guid conversationId);

    /// <summary>
    /// The newest <paramref name="limit"/> messages (default and most: Chat:SnapshotMessages) before
    /// <paramref name="beforePosition"/> (none: the newest), oldest first; the active text of a streaming answer.
    /// </summary>
    Task<MessagePage> GetMessages(Guid conversationId, long? beforePosition, int? limit);

    Task LeaveConversation(Guid conversationId);

    /// <summary>Saves the user message and queues the answer; returns at once. Idempotent per ClientMessageId.</summary>
    Task<SendMessageResult> SendMessage(SendMessageRequest request);

    /// <summary>
    /// The chunks of the message with a sequence greater than <paramref name="afterSequence"/>, in order: at most
    /// Chat:MaxChunksPerRead of them; ask again after the last one until fewer come back.
    /// </summary>
    Task<IReadOnlyList<Chunk>> GetChunks(Guid messageId, long afterSequence);

    /// <summary>True when a running generation was stopped; false when it had already ended.</summary>
    Task<bool> CancelGeneration(Guid messageId);
}
