namespace ChatStreaming.Client.Core;

/// <summary>The groups the session's connection is in: the open conversation's, left when another opens or it is deleted.</summary>
public sealed partial class ChatSession
{
    /// <summary>Leaves the open conversation's group unless it is <paramref name="next"/>, as chat-client.js does.</summary>
    private async Task LeaveOpenConversationAsync(Guid next, CancellationToken cancellationToken)
    {
        if (ConversationId is not { } open || open == next)
        {
            return;
        }

        try
        {
            await Connection.AsChatHub(cancellationToken).LeaveConversation(open);
        }
        catch (Microsoft.AspNetCore.SignalR.HubException)
        {
            // this connection was not in its group (a reconnect put it in none): nothing to leave
        }
    }

    private async Task ReopenQuietlyAsync(Guid conversationId)
    {
        try
        {
            await OpenAsync(conversationId, CancellationToken.None);
        }
        catch (Exception ex) when (IsRefusedOrDisconnected(ex))
        {
            // the connection is failing: its reconnect opens the conversation again
        }
    }

    /// <summary>
    /// The open conversation was deleted (from another tab): its group is left, so the server stops holding it for this
    /// connection (a place among Chat:MaxGroupsPerConnection, a Redis subscription). Best effort: the connection may be
    /// closing, and then its groups go with it.
    /// </summary>
    private async Task LeaveDeletedAsync(Guid conversationId)
    {
        try
        {
            await Connection.AsChatHub(CancellationToken.None).LeaveConversation(conversationId);
        }
        catch (Exception ex) when (IsRefusedOrDisconnected(ex))
        {
            // not connected now (its groups went with the connection), or the server refused: nothing left to leave
        }
    }

    /// <summary>
    /// What a hub call throws when the server refused it or the connection is failing, reconnecting or closed (a closing
    /// connection cancels the calls it has pending): the session's best-effort calls give up on these, never on a bug.
    /// </summary>
    private static bool IsRefusedOrDisconnected(Exception ex) =>
        ex is Microsoft.AspNetCore.SignalR.HubException or InvalidOperationException or OperationCanceledException or IOException or TimeoutException;
}
