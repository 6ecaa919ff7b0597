using ChatStreaming.Contracts;
using ChatStreaming.Worker.Intake;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

public sealed partial class ChatHub
{
    /// <summary>Validate → accept (admit, save, register) → join the group → announce → start.</summary>
    public async Task<SendMessageResult> SendMessage(SendMessageRequest request)
    {
        Validate(request);
        var accepted = await intake.AcceptAsync(UserId, request, Aborted) switch
        {
            AcceptedExchange exchange => exchange,
            RefusedSend refused => throw new HubException(refused.Reason),
            var other => throw new InvalidOperationException($"unexpected intake result {other}"),
        };
        if (!accepted.IsNew)
        {
            return accepted.Result; // a retry of a send that was accepted: same ids, nothing new started
        }

        var group = ChatGroups.Conversation(accepted.ConversationId);
        await Groups.AddToGroupAsync(Context.ConnectionId, group, CancellationToken.None);
        await Clients.Group(group).MessageAdded(accepted.Exchange.UserMessage);
        if (await intake.StartAsync(accepted) is { } refusal)
        {
            throw new HubException(refusal.Reason);
        }

        return accepted.Result;
    }

    private void Validate(SendMessageRequest? request)
    {
        if (request is null)
        {
            throw new HubException("request is required: { conversationId, content, clientMessageId? }");
        }

        if (string.IsNullOrWhiteSpace(request.Content))
        {
            throw new HubException("content must not be empty");
        }

        var limit = options.Value.MaxMessageCharacters;
        if (request.Content.Length > limit)
        {
            throw new HubException($"content is {request.Content.Length} characters; the limit is {limit}");
        }

        if (request.ClientMessageId is { Length: > MaxClientMessageIdCharacters })
        {
            throw new HubException($"clientMessageId must be at most {MaxClientMessageIdCharacters} characters");
        }
    }
}
