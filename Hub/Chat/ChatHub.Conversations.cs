using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

/// <summary>Managing conversations: rename, delete, page the list, choose a branch, search; the models and usage.</summary>
public sealed partial class ChatHub
{
    public async Task<Conversation> UpdateConversation(UpdateConversationRequest request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { conversationId, title?, model?, systemPrompt? }");
        }

        var conversation = await conversations.UpdateAsync(UserId, request, Aborted).OrThrow();
        await Clients.User(UserId).ConversationUpdated(conversation);
        return conversation;
    }

    public async Task<bool> DeleteConversation(Guid conversationId)
    {
        var deleted = await conversations.DeleteAsync(UserId, conversationId, Aborted);
        await LeaveGroupAsync(conversationId); // refused too: another tab may have deleted it first, its group goes all the same
        deleted.OrThrow();
        await Clients.User(UserId).ConversationDeleted(new ConversationDeleted(conversationId));
        return true;
    }

    public Task<ConversationPage> GetConversations(ConversationsRequest request)
    {
        request ??= new ConversationsRequest();
        return conversations.GetPageAsync(UserId, request.Before, request.Limit, Aborted).OrThrow();
    }

    public Task<ConversationSnapshot> SelectBranch(SelectBranchRequest request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { conversationId, messageId }");
        }

        EnsureCanJoin(request.ConversationId); // refused before the branch changes for every tab, not after
        return conversations.SelectBranchAsync(UserId, request, () => JoinGroupAsync(request.ConversationId), Aborted).OrThrow();
    }

    public Task<IReadOnlyList<SearchHit>> SearchMessages(SearchMessagesRequest request) =>
        conversations.SearchAsync(UserId, request ?? new SearchMessagesRequest(""), Aborted).OrThrow();

    public Task<IReadOnlyList<ModelInfo>> ListModels() => Task.FromResult(conversations.ListModels());

    public Task<IReadOnlyList<ModelUsage>> GetUsage(UsageRequest? request) => conversations.GetUsageAsync(UserId, request, Aborted).OrThrow();
}
