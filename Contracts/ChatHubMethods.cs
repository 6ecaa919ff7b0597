namespace ChatStreaming.Contracts;

/// <summary>Hub method and event names, for clients that invoke by string (JavaScript, raw SignalR clients).</summary>
public static class ChatHubMethods
{
    public const string CreateConversation = nameof(IChatHub.CreateConversation);
    public const string ListConversations = nameof(IChatHub.ListConversations);
    public const string JoinConversation = nameof(IChatHub.JoinConversation);
    public const string LeaveConversation = nameof(IChatHub.LeaveConversation);
    public const string GetMessages = nameof(IChatHub.GetMessages);
    public const string SendMessage = nameof(IChatHub.SendMessage);
    public const string GetChunks = nameof(IChatHub.GetChunks);
    public const string CancelGeneration = nameof(IChatHub.CancelGeneration);
    public const string UpdateConversation = nameof(IChatHub.UpdateConversation);
    public const string DeleteConversation = nameof(IChatHub.DeleteConversation);
    public const string GetConversations = nameof(IChatHub.GetConversations);
    public const string RegenerateAnswer = nameof(IChatHub.RegenerateAnswer);
    public const string EditMessage = nameof(IChatHub.EditMessage);
    public const string SelectBranch = nameof(IChatHub.SelectBranch);
    public const string SearchMessages = nameof(IChatHub.SearchMessages);
    public const string ListModels = nameof(IChatHub.ListModels);
    public const string GetUsage = nameof(IChatHub.GetUsage);

    public const string MessageAdded = nameof(IChatHubClient.MessageAdded);
    public const string GenerationStarted = nameof(IChatHubClient.GenerationStarted);
    public const string ReceiveChunk = nameof(IChatHubClient.ReceiveChunk);
    public const string ReceiveChunks = nameof(IChatHubClient.ReceiveChunks);
    public const string GenerationFinished = nameof(IChatHubClient.GenerationFinished);
    public const string GenerationResumed = nameof(IChatHubClient.GenerationResumed);
    public const string ConversationCreated = nameof(IChatHubClient.ConversationCreated);
    public const string ConversationUpdated = nameof(IChatHubClient.ConversationUpdated);
    public const string ConversationDeleted = nameof(IChatHubClient.ConversationDeleted);
}
