using ChatStreaming.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Client.Core;

/// <summary>Managing conversations: pages of the list, rename, delete, search, regenerate, edit, branches.</summary>
public sealed partial class ChatSession
{
    /// <summary>The user's conversation list changed in any tab on any instance (the open one may have been deleted).</summary>
    public event Action<ConversationChange>? ConversationChanged;

    /// <summary>A page of the user's conversations, newest first; pass <see cref="ConversationPage.NextCursor"/> as <paramref name="before"/>.</summary>
    public Task<ConversationPage> GetConversationsAsync(string? before, int? limit, CancellationToken cancellationToken) =>
        Connection.InvokeAsync<ConversationPage>(ChatHubMethods.GetConversations, new ConversationsRequest(before, limit), cancellationToken);

    public Task<Conversation> RenameConversationAsync(Guid conversationId, string title, CancellationToken cancellationToken) =>
        Connection.InvokeAsync<Conversation>(ChatHubMethods.UpdateConversation, new UpdateConversationRequest(conversationId, title), cancellationToken);

    /// <summary>Deletes the conversation (its running answers are cancelled); it is closed if it was the open one.</summary>
    public async Task<bool> DeleteConversationAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        var deleted = await Connection.InvokeAsync<bool>(ChatHubMethods.DeleteConversation, conversationId, cancellationToken);
        if (ConversationId == conversationId)
        {
            ConversationId = null;
        }

        return deleted;
    }

    public Task<IReadOnlyList<SearchHit>> SearchAsync(string query, int? limit, Guid? conversationId, CancellationToken cancellationToken) =>
        Connection.InvokeAsync<IReadOnlyList<SearchHit>>(ChatHubMethods.SearchMessages, new SearchMessagesRequest(query, limit, conversationId), cancellationToken);

    /// <summary>Another answer to the question <paramref name="answerId"/> answered; the old one stays as its sibling.</summary>
    public Task<SendMessageResult> RegenerateAsync(Guid answerId, CancellationToken cancellationToken) =>
        Connection.InvokeAsync<SendMessageResult>(ChatHubMethods.RegenerateAnswer, new RegenerateAnswerRequest(answerId, Guid.NewGuid().ToString()), cancellationToken);

    /// <summary>A new version of the user message <paramref name="messageId"/>, answered; the earlier branch stays.</summary>
    public Task<SendMessageResult> EditAsync(Guid messageId, string content, CancellationToken cancellationToken) =>
        Connection.InvokeAsync<SendMessageResult>(ChatHubMethods.EditMessage, new EditMessageRequest(messageId, content, Guid.NewGuid().ToString()), cancellationToken);

    /// <summary>Makes the newest path through <paramref name="messageId"/> the open conversation's active branch; its snapshot, applied.</summary>
    public async Task<ConversationSnapshot> SelectBranchAsync(Guid messageId, CancellationToken cancellationToken)
    {
        var conversationId = ConversationId ?? throw new InvalidOperationException("no conversation is open");
        var snapshot = await Connection.InvokeAsync<ConversationSnapshot>(ChatHubMethods.SelectBranch, new SelectBranchRequest(conversationId, messageId), cancellationToken);
        await UnderGateAsync(() =>
        {
            ApplySnapshot(snapshot.Messages);
            return Task.CompletedTask;
        });
        return snapshot;
    }
}
