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
        using var activity = WorkerTracing.Source.StartActivity("chat.send_message");
        activity?.SetTag(WorkerTracing.ConversationIdTag, request.ConversationId.ToString());
        if (queue.IsFull || !queue.IsAcceptingWork)
        {
            throw new HubException(ChatErrors.Busy); // refused before anything is saved (full, or shutting down)
        }

        var admission = await AdmitAsync(request.ClientMessageId);
        Exchange? exchange;
        try
        {
            exchange = await store.AddExchangeAsync(UserId, request.ConversationId, request.Content, request.ClientMessageId, Aborted);
        }
        catch
        {
            await limiter.RefundAsync(UserId, admission);
            throw;
        }

        if (exchange is null)
        {
            await limiter.RefundAsync(UserId, admission);
            throw new HubException(ChatErrors.ConversationNotFound);
        }

        var result = new SendMessageResult(exchange.UserMessage.Id, exchange.AssistantMessage.Id);
        activity?.SetTag(WorkerTracing.MessageIdTag, result.AssistantMessageId.ToString());
        if (!exchange.IsNew)
        {
            await limiter.RefundAsync(UserId, admission);
            return result; // a retry of a send that was accepted: same ids, nothing new started
        }

        var group = ChatGroups.Conversation(request.ConversationId);
        try
        {
            await replay.RegisterAsync(result.AssistantMessageId, request.ConversationId, result.UserMessageId, UserId, admission);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            // Redis went away after the message was saved: end its answer now, truthfully, rather than leave it
            // streaming for the stale-answer sweep. The caller is refused as unavailable (RedisUnavailableFilter).
            await finisher.EndUnregisteredAsync(request.ConversationId, result.AssistantMessageId, ChatErrors.Unavailable);
            throw;
        }

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

    /// <summary>Counts the send against the user's limits (shared by all instances through Redis), or refuses it.</summary>
    private async Task<Admission> AdmitAsync(string? clientMessageId)
    {
        // Redis unreachable: RedisUnavailableFilter refuses the call as unavailable, before anything is saved.
        var admission = await limiter.AdmitAsync(UserId, clientMessageId);
        var o = options.Value;
        return admission.Result switch
        {
            AdmissionResult.Admitted => admission,
            AdmissionResult.TooManyMessages => throw new HubException(ChatErrors.RateLimited(
                WholeSeconds(admission.RetryAfter), $"at most {o.MessagesPerMinutePerUser} messages per minute")),
            _ => throw new HubException(ChatErrors.RateLimited(
                WholeSeconds(admission.RetryAfter), $"at most {o.MaxConcurrentGenerationsPerUser} answers may run at once")),
        };
    }

    private static int WholeSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

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
