using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

public sealed partial class ChatHub
{
    public async Task<SendMessageResult> SendMessage(SendMessageRequest request)
    {
        Validate(request);
        if (queue.IsFull || !queue.IsAcceptingWork)
        {
            throw new HubException(ChatErrors.Busy); // refused before anything is saved (full, or shutting down)
        }

        var exchange = await store.AddExchangeAsync(UserId, request.ConversationId, request.Content, request.ClientMessageId, Aborted)
            ?? throw new HubException(ChatErrors.ConversationNotFound);
        var result = new SendMessageResult(exchange.UserMessage.Id, exchange.AssistantMessage.Id);
        if (!exchange.IsNew)
        {
            return result; // a retry of a send that was accepted: same ids, nothing new started
        }

        var group = ChatGroups.Conversation(request.ConversationId);
        await replay.RegisterAsync(result.AssistantMessageId, request.ConversationId, result.UserMessageId, UserId);
        await Groups.AddToGroupAsync(Context.ConnectionId, group, CancellationToken.None);
        await Clients.Group(group).MessageAdded(exchange.UserMessage);

        var job = new GenerationJob(request.ConversationId, result.UserMessageId, result.AssistantMessageId, UserId, request.Content);
        if (!queue.TryEnqueue(job))
        {
            // Lost the race for the last queue slot: end the answer truthfully, then say so.
            await finisher.EndAsync(request.ConversationId, result.AssistantMessageId, new ModelOutcome(MessageStatus.Failed, ChatErrors.Busy), "", 0);
            throw new HubException(ChatErrors.Busy);
        }

        return result;
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

        if (request.Content.Contains('\0', StringComparison.Ordinal))
        {
            throw new HubException("content must not contain NUL (U+0000) characters"); // Postgres text cannot store them
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
