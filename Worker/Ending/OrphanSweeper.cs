using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// Takes over or ends other instances' orphans: an answer whose lease ran out and whose instance's heartbeat is gone (it
/// was killed or stayed paused past the lease) is claimed by exactly one instance, which carries it on to its end
/// (Chat:Failover = Continue: <see cref="IAnswerContinuation"/>) or saves it as interrupted with the text streamed so
/// far, and announces it (Interrupt, or when it cannot be carried on: its state is gone, or this instance is full). Every few sweeps it also asks Postgres for answers still "streaming" that have no lease: Redis
/// lost them (a restart), or their instance died between deciding and saving. This instance's own leases are renewed
/// by <see cref="LeaseRenewer"/>, on a timer of its own, so a slow sweep never lets them lapse. An orphan of the Responses
/// API that a sweep ends has its background response cancelled at the provider, as its owner would have.
/// </summary>
internal sealed class OrphanSweeper(
    OwnedAnswers owned,
    GenerationState state,
    ReplayStream replay,
    ChatStore store,
    GenerationFinisher finisher,
    IAnswerContinuation continuation,
    ModelCatalog catalog,
    BackgroundResponses backgroundResponses,
    TokenSpender tokens,
    WorkerMetrics metrics,
    TimeProvider timeProvider,
    IOptions<ChatStreamingOptions> options,
    ILogger<OrphanSweeper> logger) : BackgroundService
{
    public const string OrphanError = "the instance generating this answer stopped";
    private const int DatabaseSweepEvery = 10;

    /// <summary>How often an instance sweeps: a third of a lease.</summary>
    private static TimeSpan SweepInterval(TimeSpan lease) => lease / 3;

    /// <summary>How often a sweep asks Postgres for answers still streaming without a lease: every tenth sweep.</summary>
    internal static TimeSpan DatabaseSweepInterval(TimeSpan lease) => DatabaseSweepEvery * SweepInterval(lease);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval(options.Value.GenerationLease), timeProvider);
        var tick = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                foreach (var (conversationId, messageId) in await state.ExpiredLeasesAsync())
                {
                    await TryRecoverAsync(messageId, conversationId, leaseExpired: true, stoppingToken);
                }

                if (++tick % DatabaseSweepEvery == 0)
                {
                    var before = timeProvider.GetUtcNow() - (3 * options.Value.GenerationLease);
                    foreach (var (messageId, conversationId) in await store.FindStaleStreamingAsync(before, stoppingToken))
                    {
                        await TryRecoverAsync(messageId, conversationId, leaseExpired: false, stoppingToken);
                    }
                }

                metrics.OrphanSweep(ok: true);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Redis or Postgres away, or anything else (a timeout's cancellation included): try again next tick.
                metrics.OrphanSweep(ok: false);
                WorkerLog.SweepFailed(logger, ex);
            }
        }
    }

    /// <summary>One answer: a failure is logged and does not keep the sweep from the others.</summary>
    private async Task TryRecoverAsync(Guid messageId, Guid conversationId, bool leaseExpired, CancellationToken stoppingToken)
    {
        try
        {
            var takeOver = options.Value.Failover == FailoverMode.Continue;
            if (!owned.Owns(messageId) && await state.ClaimOrphanAsync(conversationId, messageId, leaseExpired, takeOver) is { } claim)
            {
                if (claim.Continuation is { } taken)
                {
                    if (await continuation.TryContinueAsync(claim, stoppingToken))
                    {
                        return;
                    }

                    // Taken over, but this instance cannot run it now: it ends here, under the epoch it won.
                    var streamed = await replay.GetStreamedTextAsync(conversationId, messageId);
                    var (usage, model) = await ChargeAsync(conversationId, messageId, claim.Model, streamed, stoppingToken);
                    if (await finisher.EndAsync(conversationId, messageId, new ModelOutcome(MessageStatus.Interrupted, OrphanError) { Usage = usage },
                        RelayResult.Streamed(streamed.Content, streamed.Parts, streamed.LastSequence), model.Name, taken.Epoch) is not null)
                    {
                        await tokens.SpendAsync(taken.OwnerId, messageId, taken.Epoch, usage);
                        await CancelBackgroundResponseAsync(model, streamed);
                    }

                    return;
                }

                await RecoverAsync(messageId, conversationId, claim, stoppingToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            WorkerLog.RecoveryFailed(logger, ex, messageId);
        }
    }

    private async Task RecoverAsync(Guid messageId, Guid conversation, OrphanClaim claim, CancellationToken cancellationToken)
    {
        var streamed = await replay.GetStreamedTextAsync(conversation, messageId);
        var error = claim.Error ?? (claim.Status == MessageStatus.Interrupted ? OrphanError : null);
        var (usage, model) = await ChargeAsync(conversation, messageId, claim.Model, streamed, cancellationToken, claim.Usage);
        var final = new FinalMessage(messageId, streamed.Content, claim.Status, streamed.LastSequence, error, Usage: usage, Parts: streamed.Parts, Model: model.Name);
        var (_, saved) = await finisher.SaveAndAnnounceAsync(conversation, final);
        if (saved)
        {
            if (claim.ChargeTo is { } charge)
            {
                await tokens.SpendAsync(charge.OwnerId, messageId, charge.Epoch, usage); // not an end its instance decided: that one counted them
            }

            metrics.OrphanRecovered();
            WorkerLog.OrphanRecovered(logger, messageId, conversation, claim.Status, streamed.LastSequence);
            if (claim.Status != MessageStatus.Completed)
            {
                await CancelBackgroundResponseAsync(model, streamed);
            }
        }
    }

    /// <summary>
    /// What an orphan ended here is charged, and the model it is saved with. Its dead instance's report never came, so
    /// an estimate (as for any answer interrupted) of what it streamed and of the request it was sent with, built again
    /// as the generator built it (the question, the history and system prompt the model is given); the model resolved
    /// as the generator resolves it (the send's, else the conversation's, else the default). No charge when it streamed
    /// nothing; what its instance <paramref name="counted"/> when it decided the end (and never saved it), if it did.
    /// </summary>
    private async Task<(TokenUsage? Usage, CatalogModel Model)> ChargeAsync(
        Guid conversationId, Guid messageId, string? sendModel, StreamedText streamed, CancellationToken cancellationToken, TokenUsage? counted = null)
    {
        var question = await store.GetMessageAsync(messageId, cancellationToken) is { ParentId: { } parentId }
            ? await store.GetMessageAsync(parentId, cancellationToken)
            : null;
        var history = question is null ? null : await store.GetModelHistoryAsync(conversationId, question.Id, catalog.MaxContextMessages, cancellationToken);
        var model = catalog.Get(sendModel ?? history?.Model);
        var streamedCharacters = UsageCharge.Characters(streamed.Parts);
        if (counted is not null || streamedCharacters == 0)
        {
            return (counted, model);
        }

        var request = (question, history) is ({ } asked, { } before)
            ? ConversationContext.Characters(ConversationContext.Build(model.Options, before.Messages, asked.Content, before.SystemPrompt))
            : 0;
        return (UsageCharge.Of(null, wholeAnswer: false, request, streamedCharacters, inheritedCharacters: 0), model);
    }

    /// <summary>
    /// An orphan of the Responses API ended here: its background response would go on generating (and be billed) at the
    /// provider, so it is cancelled there (its id is kept with the buffer's last chunk, <see cref="ModelContinuation"/>).
    /// </summary>
    private Task CancelBackgroundResponseAsync(CatalogModel model, StreamedText streamed) =>
        streamed.ModelContinuation is { } continuation && ModelContinuation.ResponseIdOf(continuation) is { } responseId
            ? backgroundResponses.CancelAsync(model, responseId)
            : Task.CompletedTask;
}
