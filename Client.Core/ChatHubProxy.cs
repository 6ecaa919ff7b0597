using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Client.Core;

/// <summary>
/// <see cref="IChatHub"/> over a <see cref="HubConnection"/>: each method is one <c>InvokeAsync</c> of the method of the
/// same name, so a call site cannot misspell a name or pass the wrong arguments, and hub errors still surface as
/// <see cref="Microsoft.AspNetCore.SignalR.HubException"/>. Written by hand instead of taking a source-generator
/// package (TypedSignalR.Client): it is a few one-liners, and the compiler keeps it in step with <see cref="IChatHub"/>.
/// </summary>
/// <param name="connection">The started connection the calls go over.</param>
/// <param name="cancellationToken">
/// Passed to every call (<see cref="IChatHub"/>, the wire contract, has no token): stops waiting for the result; the hub
/// method itself is not cancelled.
/// </param>
public sealed class ChatHubProxy(HubConnection connection, CancellationToken cancellationToken = default) : IChatHub
{
    public Task<Conversation> CreateConversation(string? title) =>
        connection.InvokeAsync<Conversation>(ChatHubMethods.CreateConversation, title, cancellationToken);

    public Task<IReadOnlyList<Conversation>> ListConversations() =>
        connection.InvokeAsync<IReadOnlyList<Conversation>>(ChatHubMethods.ListConversations, cancellationToken);

    public Task<ConversationSnapshot> JoinConversation(Guid conversationId) =>
        connection.InvokeAsync<ConversationSnapshot>(ChatHubMethods.JoinConversation, conversationId, cancellationToken);

    public Task<MessagePage> GetMessages(Guid conversationId, long? beforePosition, int? limit) =>
        connection.InvokeAsync<MessagePage>(ChatHubMethods.GetMessages, conversationId, beforePosition, limit, cancellationToken);

    public Task LeaveConversation(Guid conversationId) =>
        connection.InvokeAsync(ChatHubMethods.LeaveConversation, conversationId, cancellationToken);

    public Task<SendMessageResult> SendMessage(SendMessageRequest request) =>
        connection.InvokeAsync<SendMessageResult>(ChatHubMethods.SendMessage, request, cancellationToken);

    public Task<IReadOnlyList<Chunk>> GetChunks(Guid messageId, long afterSequence) =>
        connection.InvokeAsync<IReadOnlyList<Chunk>>(ChatHubMethods.GetChunks, messageId, afterSequence, cancellationToken);

    public Task<bool> CancelGeneration(Guid messageId) =>
        connection.InvokeAsync<bool>(ChatHubMethods.CancelGeneration, messageId, cancellationToken);

    public Task<Conversation> UpdateConversation(UpdateConversationRequest request) =>
        connection.InvokeAsync<Conversation>(ChatHubMethods.UpdateConversation, request, cancellationToken);

    public Task<bool> DeleteConversation(Guid conversationId) =>
        connection.InvokeAsync<bool>(ChatHubMethods.DeleteConversation, conversationId, cancellationToken);

    public Task<ConversationPage> GetConversations(ConversationsRequest request) =>
        connection.InvokeAsync<ConversationPage>(ChatHubMethods.GetConversations, request, cancellationToken);

    public Task<SendMessageResult> RegenerateAnswer(RegenerateAnswerRequest request) =>
        connection.InvokeAsync<SendMessageResult>(ChatHubMethods.RegenerateAnswer, request, cancellationToken);

    public Task<SendMessageResult> EditMessage(EditMessageRequest request) =>
        connection.InvokeAsync<SendMessageResult>(ChatHubMethods.EditMessage, request, cancellationToken);

    public Task<ConversationSnapshot> SelectBranch(SelectBranchRequest request) =>
        connection.InvokeAsync<ConversationSnapshot>(ChatHubMethods.SelectBranch, request, cancellationToken);

    public Task<IReadOnlyList<SearchHit>> SearchMessages(SearchMessagesRequest request) =>
        connection.InvokeAsync<IReadOnlyList<SearchHit>>(ChatHubMethods.SearchMessages, request, cancellationToken);

    public Task<IReadOnlyList<ModelInfo>> ListModels() =>
        connection.InvokeAsync<IReadOnlyList<ModelInfo>>(ChatHubMethods.ListModels, cancellationToken);

    public Task<IReadOnlyList<ModelUsage>> GetUsage(UsageRequest? request) =>
        connection.InvokeAsync<IReadOnlyList<ModelUsage>>(ChatHubMethods.GetUsage, request, cancellationToken);
}
