using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

/// <summary>Managing conversations: rename, delete, page the list, choose a branch, search.</summary>
public sealed partial class ChatHub
{
    /// <summary>Most search hits one call returns (hub and REST); the default is <see cref="DefaultSearchHits"/>.</summary>
    internal const int MaxSearchHits = 100;
    internal const int DefaultSearchHits = 20;
    internal const int MaxQueryCharacters = 500;
    internal const int MaxSystemPromptCharacters = 8_000;

    public async Task<Conversation> UpdateConversation(UpdateConversationRequest request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { conversationId, title?, model?, systemPrompt? }");
        }

        var titleOnly = request.Model is null && request.SystemPrompt is null; // the request as it was before models: null renames to the default
        var title = request.Title is null && !titleOnly ? null : Title(request.Title);
        var model = request.Model is null or "" ? request.Model : ModelName(request.Model);
        if (request.SystemPrompt is { Length: > MaxSystemPromptCharacters })
        {
            throw new HubException($"systemPrompt must be at most {MaxSystemPromptCharacters} characters");
        }

        var conversation = await store.UpdateConversationAsync(UserId, request.ConversationId, title, model, request.SystemPrompt?.Trim(), Aborted)
            ?? throw new HubException(ChatErrors.ConversationNotFound);
        await Clients.User(UserId).ConversationUpdated(conversation);
        return conversation;
    }

    /// <summary>
    /// Running answers are cancelled and every Redis key of its messages removed before the rows go, so nothing of it
    /// stays readable; a message saved meanwhile (a send racing the delete) is forgotten after the delete.
    /// </summary>
    public async Task<bool> DeleteConversation(Guid conversationId)
    {
        var messageIds = await store.GetMessageIdsAsync(UserId, conversationId, Aborted);
        if (messageIds.Count == 0 && await store.GetConversationAsync(UserId, conversationId, Aborted) is null)
        {
            throw new HubException(ChatErrors.ConversationNotFound);
        }

        await generations.ForgetAsync(messageIds);
        var deleted = await store.DeleteConversationAsync(UserId, conversationId, Aborted)
            ?? throw new HubException(ChatErrors.ConversationNotFound); // deleted by a concurrent call
        await generations.ForgetAsync([.. deleted.Except(messageIds)]);
        await subscriptions.LeaveAsync(conversationId, Context.ConnectionId);
        JoinedGroups.Remove(conversationId);
        await Clients.User(UserId).ConversationDeleted(new ConversationDeleted(conversationId));
        return true;
    }

    public async Task<ConversationPage> GetConversations(ConversationsRequest request)
    {
        request ??= new ConversationsRequest();
        if (request.Limit is < 1 or > MaxListedConversations)
        {
            throw new HubException($"limit must be between 1 and {MaxListedConversations}");
        }

        try
        {
            var (conversations, next) = await store.GetConversationPageAsync(UserId, request.Before, request.Limit ?? MaxListedConversations, Aborted);
            return new ConversationPage(conversations, next);
        }
        catch (FormatException)
        {
            throw new HubException("before must be the nextCursor of an earlier page");
        }
    }

    public async Task<ConversationSnapshot> SelectBranch(SelectBranchRequest request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { conversationId, messageId }");
        }

        var conversation = await store.GetConversationAsync(UserId, request.ConversationId, Aborted)
            ?? throw new HubException(ChatErrors.ConversationNotFound);
        if (!await store.SelectBranchAsync(UserId, request.ConversationId, request.MessageId, Aborted))
        {
            throw new HubException(ChatErrors.MessageNotFound);
        }

        await JoinGroupAsync(request.ConversationId); // as JoinConversation: in the group before the read

        var page = await reader.GetMessagesAsync(request.ConversationId, null, options.Value.SnapshotMessages, Aborted);
        return new ConversationSnapshot(conversation, page.Messages, page.HasMoreBefore);
    }

    public async Task<IReadOnlyList<SearchHit>> SearchMessages(SearchMessagesRequest request)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Query))
        {
            throw new HubException("query must not be empty");
        }

        if (request.Query.Length > MaxQueryCharacters)
        {
            throw new HubException($"query must be at most {MaxQueryCharacters} characters");
        }

        if (request.Limit is < 1 or > MaxSearchHits)
        {
            throw new HubException($"limit must be between 1 and {MaxSearchHits}");
        }

        if (request.ConversationId is { } conversationId && await store.GetConversationAsync(UserId, conversationId, Aborted) is null)
        {
            throw new HubException(ChatErrors.ConversationNotFound);
        }

        return await store.SearchMessagesAsync(UserId, request.Query, request.Limit ?? DefaultSearchHits, request.ConversationId, Aborted);
    }
}
