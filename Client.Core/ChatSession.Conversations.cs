using ChatStreaming.Contracts;

namespace ChatStreaming.Client.Core;

/// <summary>Managing conversations: pages of the list, rename, delete, search, regenerate, edit, branches.</summary>
public sealed partial class ChatSession
{
    /// <summary>The user's conversation list changed in any tab on any instance (the open one may have been deleted).</summary>
    public event Action<ConversationChange>? ConversationChanged;

    /// <summary>A page of the user's conversations, newest first; pass <see cref="ConversationPage.NextCursor"/> as <paramref name="before"/>.</summary>
    public Task<ConversationPage> GetConversationsAsync(string? before, int? limit, CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).GetConversations(new ConversationsRequest(before, limit));

    public Task<Conversation> RenameConversationAsync(Guid conversationId, string title, CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).UpdateConversation(new UpdateConversationRequest(conversationId, title));

    /// <summary>Deletes the conversation (its running answers are cancelled); it is closed if it was the open one.</summary>
    public async Task<bool> DeleteConversationAsync(Guid conversationId, CancellationToken cancellationToken)
    {
        var deleted = await Connection.AsChatHub(cancellationToken).DeleteConversation(conversationId);
        if (ConversationId == conversationId)
        {
            ConversationId = null;
        }

        return deleted;
    }

    public Task<IReadOnlyList<SearchHit>> SearchAsync(string query, int? limit, Guid? conversationId, CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).SearchMessages(new SearchMessagesRequest(query, limit, conversationId));

    /// <summary>Another answer to the question <paramref name="answerId"/> answered; the old one stays as its sibling.</summary>
    public Task<SendMessageResult> RegenerateAsync(Guid answerId, CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).RegenerateAnswer(new RegenerateAnswerRequest(answerId, Guid.NewGuid().ToString()));

    /// <summary>A new version of the user message <paramref name="messageId"/>, answered; the earlier branch stays.</summary>
    public Task<SendMessageResult> EditAsync(Guid messageId, string content, CancellationToken cancellationToken) =>
        Connection.AsChatHub(cancellationToken).EditMessage(new EditMessageRequest(messageId, content, Guid.NewGuid().ToString()));

    /// <summary>Makes the newest path through <paramref name="messageId"/> the open conversation's active branch; its snapshot, applied.</summary>
    public async Task<ConversationSnapshot> SelectBranchAsync(Guid messageId, CancellationToken cancellationToken)
    {
        var conversationId = ConversationId ?? throw new InvalidOperationException("no conversation is open");
        var snapshot = await Connection.AsChatHub(cancellationToken).SelectBranch(new SelectBranchRequest(conversationId, messageId));
        await UnderGateAsync(() =>
        {
            ApplySnapshot(snapshot.Messages);
            return Task.CompletedTask;
        });
        return snapshot;
    }
}
