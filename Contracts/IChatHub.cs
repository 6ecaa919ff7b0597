namespace ChatStreaming.Contracts;

/// <summary>The methods a client invokes on the hub at <see cref="ChatHubPaths.Hub"/>.</summary>
public interface IChatHub
{
    Task<Conversation> CreateConversation(string? title);

    /// <summary>The caller's conversations, newest first.</summary>
    Task<IReadOnlyList<Conversation>> ListConversations();

    /// <summary>
    /// Adds the connection to the conversation's group, then returns the newest messages of its active branch (oldest first).
    /// </summary>
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

    /// <summary>Renames the conversation; every connection of the caller gets <c>ConversationUpdated</c>.</summary>
    Task<Conversation> UpdateConversation(UpdateConversationRequest request);

    /// <summary>
    /// Cancels its running answers, deletes its messages and its Redis keys; afterwards its ids are unknown everywhere.
    /// True once deleted; every connection of the caller gets <c>ConversationDeleted</c>.
    /// </summary>
    Task<bool> DeleteConversation(Guid conversationId);

    /// <summary>A page of the caller's conversations, newest first (<see cref="ListConversations"/> is the first page).</summary>
    Task<ConversationPage> GetConversations(ConversationsRequest request);

    /// <summary>A new answer to the same question, streamed like any other; the old one stays as its sibling.</summary>
    Task<SendMessageResult> RegenerateAnswer(RegenerateAnswerRequest request);

    /// <summary>A new version of a user message (a sibling) and its answer; the earlier branch is kept.</summary>
    Task<SendMessageResult> EditMessage(EditMessageRequest request);

    /// <summary>The newest path through the message becomes the active branch; returns the conversation as JoinConversation does.</summary>
    Task<ConversationSnapshot> SelectBranch(SelectBranchRequest request);

    /// <summary>The caller's saved messages matching the query, best first.</summary>
    Task<IReadOnlyList<SearchHit>> SearchMessages(SearchMessagesRequest request);

    /// <summary>The models of the catalog (Chat:Models): the default first, then by name.</summary>
    Task<IReadOnlyList<ModelInfo>> ListModels();

    /// <summary>The caller's token usage per model, for answers that ended in the range.</summary>
    Task<IReadOnlyList<ModelUsage>> GetUsage(UsageRequest? request);
}
