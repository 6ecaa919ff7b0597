using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Generation;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Intake;

/// <summary>
/// The send flow, in two calls with the announcement between them (the host's business):
/// <see cref="AcceptAsync"/> admits the send (per-user limits) and saves the user message with its answer's
/// placeholder; <see cref="StartAsync"/> registers the answer in Redis and queues it at once. Every step a later one
/// undoes is compensated here: an admission is refunded when nothing was saved; once the answer is registered, any
/// failure ends it through the <see cref="GenerationFinisher"/> (the one way an answer ends), so a send never leaves an
/// answer that nobody runs. Redis being unreachable is not a refusal: it is thrown (the hub turns it into
/// "unavailable") and loses nothing.
/// </summary>
internal sealed class ExchangeIntake(
    GenerationQueue queue,
    OwnedAnswers owned,
    UserLimiter limiter,
    ChatStore store,
    GenerationState state,
    GenerationFinisher finisher,
    IOptions<ChatStreamingOptions> options)
{
    /// <summary>
    /// Admits and saves the send. Not cancellable: a caller that goes away after the save committed must not leave the
    /// answer saved but never started (the host starts it whatever happened to the connection).
    /// </summary>
    public async Task<IntakeResult> AcceptAsync(string userId, SendMessageRequest request) =>
        await AcceptAsync(userId, request.ConversationId, request.ClientMessageId, ChatErrors.ConversationNotFound,
            maxMessages => store.AddExchangeAsync(userId, request.ConversationId, request.Content, request.ClientMessageId, maxMessages, CancellationToken.None)) switch
        {
            AcceptedExchange accepted => accepted with { Model = request.Model },
            var refused => refused,
        };

    /// <summary>Admits and saves a new answer to the question the answer <see cref="RegenerateAnswerRequest.MessageId"/> answered.</summary>
    public Task<IntakeResult> AcceptRegenerationAsync(string userId, RegenerateAnswerRequest request) =>
        AcceptOnMessageAsync(userId, request.MessageId, "assistant", "messageId must be an answer (an assistant message); to change a question use EditMessage",
            request.ClientMessageId, maxMessages => store.AddRegenerationAsync(userId, request.MessageId, request.ClientMessageId, maxMessages, CancellationToken.None));

    /// <summary>Admits and saves a new version of the user message <see cref="EditMessageRequest.MessageId"/> with its answer.</summary>
    public Task<IntakeResult> AcceptEditAsync(string userId, EditMessageRequest request) =>
        AcceptOnMessageAsync(userId, request.MessageId, "user", "messageId must be a user message; to get another answer use RegenerateAnswer",
            request.ClientMessageId, maxMessages => store.AddEditAsync(userId, request.MessageId, request.Content, request.ClientMessageId, maxMessages, CancellationToken.None));

    /// <summary>A send that starts from one of the caller's messages of <paramref name="role"/> (its conversation is the message's).</summary>
    private async Task<IntakeResult> AcceptOnMessageAsync(
        string userId, Guid messageId, string role, string wrongRole, string? clientMessageId, Func<int, Task<ExchangeSave>> save)
    {
        var owner = await store.FindMessageOwnerAsync(messageId, CancellationToken.None);
        if (owner is null || owner.OwnerId != userId)
        {
            return new RefusedSend(ChatErrors.MessageNotFound);
        }

        return owner.Role == role
            ? await AcceptAsync(userId, owner.ConversationId, clientMessageId, ChatErrors.MessageNotFound, save)
            : new RefusedSend(wrongRole);
    }

    /// <summary>
    /// Admits the send, then <paramref name="save"/>s it: one statement that also checks the conversation's room
    /// (Chat:MaxMessagesPerConversation, given to it) under the conversation's lock, so sends racing for the last room
    /// save only what fits.
    /// </summary>
    private async Task<IntakeResult> AcceptAsync(
        string userId, Guid conversationId, string? clientMessageId, string notFound, Func<int, Task<ExchangeSave>> save)
    {
        using var activity = WorkerTracing.Source.StartActivity("chat.send_message");
        activity?.SetTag(WorkerTracing.ConversationIdTag, conversationId.ToString());
        if (queue.IsFull || !queue.IsAcceptingWork)
        {
            return new RefusedSend(ChatErrors.Busy); // refused before anything is saved (full, or shutting down)
        }

        var admission = await limiter.AdmitAsync(userId, conversationId, clientMessageId);
        if (admission.SeenBefore)
        {
            // A retry: the send it repeats saved this exchange (same ids, nothing new to start)…
            if (await store.FindExchangeAsync(userId, conversationId, clientMessageId!, CancellationToken.None) is { } saved)
            {
                return Accepted(saved, userId, activity);
            }

            // …or saved nothing (it failed, or its instance died): then it is a new send, admitted in full.
            admission = await limiter.AdmitAsync(userId, conversationId, clientMessageId, asNew: true);
        }

        if (Refusal(admission) is { } refused)
        {
            return refused;
        }

        var maxMessages = options.Value.MaxMessagesPerConversation;
        ExchangeSave outcome;
        try
        {
            outcome = await save(maxMessages);
        }
        catch
        {
            await limiter.RefundAsync(userId, admission);
            throw;
        }

        if (outcome.Exchange is not { } exchange)
        {
            await limiter.RefundAsync(userId, admission);
            return new RefusedSend(outcome.ConversationFull ? ChatErrors.ConversationFull(maxMessages) : notFound);
        }

        if (!exchange.IsNew)
        {
            await limiter.RefundAsync(userId, admission); // a concurrent twin saved it first: nothing new to start
        }

        return Accepted(exchange, userId, activity) with { Admission = admission };
    }

    /// <summary>
    /// Registers the accepted answer in Redis and queues it right away. Null when it will run, else the refusal (its
    /// answer already ended, saved <c>failed</c>, or its conversation deleted meanwhile). A Redis failure is thrown after
    /// the answer was ended truthfully.
    /// </summary>
    public async Task<RefusedSend?> StartAsync(AcceptedExchange accepted)
    {
        var messageId = accepted.Result.AssistantMessageId;
        try
        {
            if (!await state.RegisterAsync(messageId, accepted.ConversationId, accepted.Result.UserMessageId, accepted.UserId, accepted.Admission, accepted.Model))
            {
                // The conversation is being deleted (the delete came while this send was saved): no answer starts.
                await finisher.EndUnregisteredAsync(accepted.ConversationId, messageId, ChatErrors.ConversationNotFound);
                await limiter.RefundAsync(accepted.UserId, accepted.Admission);
                return new RefusedSend(ChatErrors.ConversationNotFound);
            }
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            // Redis went away after the message was saved: end its answer now, truthfully, rather than leave it
            // streaming for the stale-answer sweep. The caller is refused as unavailable (the exception goes on).
            await finisher.EndUnregisteredAsync(accepted.ConversationId, messageId, ChatErrors.Unavailable);
            throw;
        }

        var job = new GenerationJob(accepted.ConversationId, accepted.Result.UserMessageId, messageId, accepted.UserId, accepted.Prompt)
        {
            Parent = accepted.Trace,
            Model = accepted.Model,
        };
        owned.Add(job.Answer);
        if (queue.TryEnqueue(job))
        {
            return null;
        }

        // Lost the race for the last queue slot (or the instance began stopping): end the answer truthfully, then say so.
        owned.Release(messageId);
        await finisher.EndAsync(accepted.ConversationId, messageId, new ModelOutcome(MessageStatus.Failed, ChatErrors.Busy));
        return new RefusedSend(ChatErrors.Busy);
    }

    private static AcceptedExchange Accepted(Exchange exchange, string userId, System.Diagnostics.Activity? activity)
    {
        activity?.SetTag(WorkerTracing.MessageIdTag, exchange.AssistantMessage.Id.ToString());
        return new AcceptedExchange(exchange, userId, exchange.UserMessage.Content, activity?.Context ?? default);
    }

    private RefusedSend? Refusal(Admission admission)
    {
        var o = options.Value;
        return admission.Result switch
        {
            AdmissionResult.Admitted => null,
            AdmissionResult.TooManyMessages => new RefusedSend(ChatErrors.RateLimited(
                admission.RetryAfter, $"at most {o.MessagesPerMinutePerUser} messages per minute")),
            AdmissionResult.TokenBudgetSpent => new RefusedSend(ChatErrors.RateLimited(admission.RetryAfter, ChatErrors.TokenBudget)),
            _ => new RefusedSend(ChatErrors.RateLimited(
                admission.RetryAfter, $"at most {o.MaxConcurrentGenerationsPerUser} answers may run at once")),
        };
    }
}
