using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Generation;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Intake;

/// <summary>
/// The send flow, in two calls with the announcement between them (the host's business):
/// <see cref="AcceptAsync"/> admits the send (per-user limits), saves the user message with its answer's placeholder
/// and registers the answer in Redis; <see cref="StartAsync"/> hands it to the generator. Every step a later one
/// undoes is compensated here: an admission is refunded when nothing was started, an answer registered but not taken
/// by the queue ends through the <see cref="GenerationFinisher"/> (the one way an answer ends).
/// Redis being unreachable is not a refusal: it is thrown (the hub turns it into "unavailable") and loses nothing.
/// </summary>
public sealed class ExchangeIntake(
    GenerationQueue queue,
    OwnedAnswers owned,
    UserLimiter limiter,
    ChatStore store,
    GenerationState state,
    GenerationFinisher finisher,
    IOptions<ChatStreamingOptions> options)
{
    public async Task<IntakeResult> AcceptAsync(string userId, SendMessageRequest request, CancellationToken cancellationToken)
    {
        using var activity = WorkerTracing.Source.StartActivity("chat.send_message");
        activity?.SetTag(WorkerTracing.ConversationIdTag, request.ConversationId.ToString());
        if (queue.IsFull || !queue.IsAcceptingWork)
        {
            return new RefusedSend(ChatErrors.Busy); // refused before anything is saved (full, or shutting down)
        }

        var admission = await limiter.AdmitAsync(userId, request.ClientMessageId);
        if (Refusal(admission) is { } refused)
        {
            return refused;
        }

        Exchange? exchange;
        try
        {
            exchange = await store.AddExchangeAsync(userId, request.ConversationId, request.Content, request.ClientMessageId, cancellationToken);
        }
        catch
        {
            await limiter.RefundAsync(userId, admission);
            throw;
        }

        if (exchange is null)
        {
            await limiter.RefundAsync(userId, admission);
            return new RefusedSend(ChatErrors.ConversationNotFound);
        }

        var accepted = new AcceptedExchange(exchange, userId, request.Content, activity?.Context ?? default);
        activity?.SetTag(WorkerTracing.MessageIdTag, accepted.Result.AssistantMessageId.ToString());
        if (!exchange.IsNew)
        {
            await limiter.RefundAsync(userId, admission);
            return accepted; // a retry of a send that was accepted: same ids, nothing new started
        }

        try
        {
            await state.RegisterAsync(exchange.AssistantMessage.Id, accepted.ConversationId, exchange.UserMessage.Id, userId, admission);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            // Redis went away after the message was saved: end its answer now, truthfully, rather than leave it
            // streaming for the stale-answer sweep. The caller is refused as unavailable (the exception goes on).
            await finisher.EndUnregisteredAsync(accepted.ConversationId, exchange.AssistantMessage.Id, ChatErrors.Unavailable);
            throw;
        }

        return accepted;
    }

    /// <summary>Queues the accepted answer; null when it will run, else the refusal (its answer already ended, saved failed).</summary>
    public async Task<RefusedSend?> StartAsync(AcceptedExchange accepted)
    {
        var messageId = accepted.Result.AssistantMessageId;
        var job = new GenerationJob(accepted.ConversationId, accepted.Result.UserMessageId, messageId, accepted.UserId, accepted.Prompt)
        {
            Parent = accepted.Trace,
        };
        owned.Add(job.Answer);
        if (queue.TryEnqueue(job))
        {
            return null;
        }

        // Lost the race for the last queue slot: end the answer truthfully, then say so.
        owned.Release(messageId);
        await finisher.EndAsync(accepted.ConversationId, messageId, new ModelOutcome(MessageStatus.Failed, ChatErrors.Busy), "", 0);
        return new RefusedSend(ChatErrors.Busy);
    }

    private RefusedSend? Refusal(Admission admission)
    {
        var o = options.Value;
        return admission.Result switch
        {
            AdmissionResult.Admitted => null,
            AdmissionResult.TooManyMessages => new RefusedSend(ChatErrors.RateLimited(
                WholeSeconds(admission.RetryAfter), $"at most {o.MessagesPerMinutePerUser} messages per minute")),
            _ => new RefusedSend(ChatErrors.RateLimited(
                WholeSeconds(admission.RetryAfter), $"at most {o.MaxConcurrentGenerationsPerUser} answers may run at once")),
        };
    }

    private static int WholeSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
}
