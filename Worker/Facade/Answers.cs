using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Intake;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker.Facade;

/// <summary>
/// The door for answers: send, regenerate, edit, cancel. Each call is one crossing from the hub; the order of a send
/// is here and nowhere else: admit → save (<see cref="ExchangeIntake"/>) → the caller's connection joins the
/// conversation → announce the question → register and queue the answer (its start and chunks are announced by the
/// generator), each step's compensation included. Joining and announcing go through Redis and are best effort: a
/// failure there must not strand an answer that is already saved, so it is logged and the send goes on (the client
/// still has the ids, and catches up from the replay buffer). Redis being unreachable for the admission or the
/// registration is thrown (the hub says "unavailable") and loses nothing.
/// </summary>
public sealed class Answers
{
    private static readonly TimeSpan BestEffortWait = TimeSpan.FromSeconds(5);

    private readonly ExchangeIntake intake;
    private readonly GenerationState state;
    private readonly ChatStore store;
    private readonly ModelCatalog models;
    private readonly IChatBroadcaster broadcaster;
    private readonly ILogger<Answers> logger;

    internal Answers(ExchangeIntake intake, GenerationState state, ChatStore store, ModelCatalog models, IChatBroadcaster broadcaster, ILogger<Answers> logger)
    {
        this.intake = intake;
        this.state = state;
        this.store = store;
        this.models = models;
        this.broadcaster = broadcaster;
        this.logger = logger;
    }

    /// <summary>
    /// Saves the question and starts its answer. <paramref name="join"/> puts the caller's connection in the
    /// conversation (before anything is announced in it); it is not called for a refused send.
    /// </summary>
    public async Task<Outcome<SendMessageResult>> SendAsync(string userId, SendMessageRequest request, Func<Guid, Task> join)
    {
        if (request.Model is { } model)
        {
            if (models.Find(model) is not { } name)
            {
                return Refusal.Invalid("model", ChatErrors.UnknownModel(model, models.List().Select(m => m.Name)));
            }

            request = request with { Model = name };
        }

        return await StartAsync(await intake.AcceptAsync(userId, request), join, announceQuestion: true);
    }

    /// <summary>A new answer to the question the answer answered; the old one stays its sibling.</summary>
    public async Task<Outcome<SendMessageResult>> RegenerateAsync(string userId, RegenerateAnswerRequest request, Func<Guid, Task> join) =>
        await StartAsync(await intake.AcceptRegenerationAsync(userId, request), join, announceQuestion: false);

    /// <summary>A new version of a user message and its answer, as the active branch.</summary>
    public async Task<Outcome<SendMessageResult>> EditAsync(string userId, EditMessageRequest request, Func<Guid, Task> join) =>
        await StartAsync(await intake.AcceptEditAsync(userId, request), join, announceQuestion: true);

    /// <summary>True when a running answer was stopped; false when it had already ended.</summary>
    public async Task<Outcome<bool>> CancelAsync(string userId, Guid messageId, CancellationToken cancellationToken)
    {
        var generation = await state.FindConversationAsync(messageId) is { } conversationId ? await state.GetGenerationAsync(conversationId, messageId) : null;
        if (generation is null)
        {
            return await store.OwnsMessageAsync(userId, messageId, cancellationToken) ? false : Refusal.NotFound(ChatErrors.MessageNotFound); // its state expired long after it ended
        }

        return generation.OwnerId == userId ? await state.RequestCancelAsync(generation.ConversationId, messageId) : Refusal.NotFound(ChatErrors.MessageNotFound);
    }

    private async Task<Outcome<SendMessageResult>> StartAsync(IntakeResult intakeResult, Func<Guid, Task> join, bool announceQuestion)
    {
        if (intakeResult is RefusedSend refused)
        {
            return Refused(refused);
        }

        var accepted = (AcceptedExchange)intakeResult;
        await BestEffortAsync("JoinConversation", () => join(accepted.ConversationId));
        if (!accepted.IsNew)
        {
            return accepted.Result; // a repeat of a send that was accepted: same ids, its answer's status now, nothing new started
        }

        if (announceQuestion)
        {
            await BestEffortAsync(nameof(IChatHubClient.MessageAdded), () => broadcaster.MessageAddedAsync(accepted.Exchange.UserMessage));
        }

        return await intake.StartAsync(accepted) is { } refusal ? Refused(refusal) : accepted.Result;
    }

    private static Refusal Refused(RefusedSend refused) => new(refused.Reason, refused.Reason switch
    {
        ChatErrors.Busy => RefusalKind.Busy,
        ChatErrors.ConversationNotFound or ChatErrors.MessageNotFound => RefusalKind.NotFound,
        var reason when reason.StartsWith(ChatErrors.RateLimitedPrefix, StringComparison.Ordinal) => RefusalKind.RateLimited,
        _ => RefusalKind.Invalid,
    });

    /// <summary>At most <see cref="BestEffortWait"/>: a stuck Redis never holds back an answer that is saved.</summary>
    private async Task BestEffortAsync(string step, Func<Task> action)
    {
        try
        {
            await action().WaitAsync(BestEffortWait);
        }
        catch (Exception ex) // including the caller having gone: its answer is saved and must start all the same
        {
            WorkerLog.SendStepFailed(logger, ex, step);
        }
    }
}
