using System.Globalization;
using ChatStreaming.Contracts;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// The Redis side of an answer's life (<see cref="RedisKeys.Generation"/>): registered as streaming with a lease, its
/// cancel flag, its final status decided once, and the claim of an orphan whose owner is gone. Its chunks are in the
/// <see cref="Streaming.ReplayStream"/>. Each script touches one answer's keys (<see cref="GenerationScripts"/>), so
/// each runs in one slot of a Redis Cluster; the lease index and the user's running answers are kept beside them
/// (GenerationState.Leases.cs).
/// </summary>
internal sealed partial class GenerationState(
    IConnectionMultiplexer redis, InstanceIdentity instance, Cancellations cancellations, IOptions<ChatStreamingOptions> options, TimeProvider time)
{
    /// <summary>
    /// How long an answer whose state Redis lost (a restart) waits, from the first sweep that saw it so, before a sweep
    /// claims it: three leases and at least 30 s, far longer than a renewal (a third of a lease) plus reconnecting to
    /// the restarted Redis, after which its live instance, if any, has re-created its state.
    /// </summary>
    private TimeSpan LostGrace => TimeSpan.FromTicks(Math.Max(3 * options.Value.GenerationLease.Ticks, TimeSpan.FromSeconds(30).Ticks));

    /// <summary>
    /// How long the first sweep's mark on an answer whose state Redis lost lives: until a sweep that asks Postgres finds
    /// it again past the <see cref="LostGrace"/>, which may be a whole gap between such sweeps later (ten sweeps, each a
    /// third of a lease: 33 s by default, 200 s with a one-minute lease); twice that gap for a sweep that runs late, and
    /// never less than an unsaved end's TTL. A mark gone before that sweep starts the grace again, and the answer is
    /// never claimed.
    /// </summary>
    private long LostMarkerTtlMilliseconds => Math.Max(
        UnsavedTtlMilliseconds, (long)(LostGrace + (2 * OrphanSweeper.DatabaseSweepInterval(options.Value.GenerationLease))).TotalMilliseconds);

    /// <summary>How long an instance may take to save an answer it ended before a sweep saves it instead.</summary>
    public static readonly TimeSpan UnsavedGrace = TimeSpan.FromSeconds(60);

    private IDatabase Db => redis.GetDatabase();

    private long TtlMilliseconds => (long)options.Value.ReplayTtl.TotalMilliseconds;

    /// <summary>The TTL of a running answer's state and replay buffer (<see cref="ChatStreamingOptions.RunningAnswerTtl"/>).</summary>
    private long RunningTtlMilliseconds => (long)options.Value.RunningAnswerTtl.TotalMilliseconds;

    /// <summary>
    /// Records a new answer as streaming, owned by <paramref name="ownerId"/>, with a first lease; it takes the place
    /// <paramref name="admission"/> reserved among the user's running answers (it counts there while its lease is listed).
    /// Also records which conversation it belongs to (<see cref="RedisKeys.AnswerConversation"/>). False, and nothing
    /// written, when its conversation is being deleted (<see cref="MarkDeletedAsync"/>).
    /// </summary>
    public async Task<bool> RegisterAsync(Guid messageId, Guid conversationId, Guid userMessageId, string ownerId, Admission admission, string? model = null)
    {
        // The state first: listings of an answer whose state was never written would only mislead the sweepers.
        if ((int)await Db.ScriptEvaluateAsync(
            GenerationScripts.Register,
            [RedisKeys.Generation(conversationId, messageId), RedisKeys.ConversationDeleted(conversationId)],
            [conversationId.ToString(), userMessageId.ToString(), ownerId, RunningTtlMilliseconds, LeaseMilliseconds, instance.Id, model ?? "", FailoverName]) == 0)
        {
            return false;
        }

        var batch = Db.CreateBatch();
        Task[] written =
        [
            SetPointerAsync(batch, conversationId, messageId, RunningTtlMilliseconds),
            .. ListLease(batch, conversationId, messageId, ownerId),
            batch.SortedSetRemoveAsync(RedisKeys.UserActive(ownerId), admission.Reservation),
        ];
        batch.Execute();
        await Task.WhenAll(written);
        return true;
    }

    /// <summary>
    /// Marks the conversation as being deleted, before its messages are listed for forgetting: from now on no answer of
    /// it registers (a send that raced the delete saved its message before the rows went, and would otherwise start an
    /// answer nobody can see). For as long as a running answer's state lives; ids are never reused.
    /// </summary>
    public Task MarkDeletedAsync(Guid conversationId) =>
        Db.StringSetAsync(RedisKeys.ConversationDeleted(conversationId), "1", TimeSpan.FromMilliseconds(RunningTtlMilliseconds));

    /// <summary>
    /// The conversation of an answer that is, or was lately, generating (null when Redis no longer knows it): its
    /// pointer is given the TTL its state is given (registered, renewed, ended, kept), so a caller that finds no pointer
    /// finds no state or buffer either.
    /// </summary>
    public async Task<Guid?> FindConversationAsync(Guid messageId) =>
        await Db.StringGetAsync(RedisKeys.AnswerConversation(messageId)) is { HasValue: true } value ? Guid.ParseExact((string)value!, "N") : null;

    /// <summary>(Re)writes an answer's conversation pointer with <paramref name="ttlMilliseconds"/>: another slot than its state, so a command of its own.</summary>
    private static Task SetPointerAsync(IDatabaseAsync db, Guid conversationId, Guid messageId, long ttlMilliseconds) =>
        db.StringSetAsync(RedisKeys.AnswerConversation(messageId), conversationId.ToString("N"), TimeSpan.FromMilliseconds(ttlMilliseconds));

    /// <summary>
    /// This instance's heartbeat and the leases and state of the answers it owns, renewed in two pipelined round trips
    /// (each answer's state, then the listings of those still streaming); returns those that ended elsewhere (an
    /// instance that thought this one gone claimed them): their generation must stop.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RenewAsync(IReadOnlyCollection<OwnedAnswer> answers)
    {
        var lease = options.Value.GenerationLease;
        var heartbeat = Db.StringSetAsync(RedisKeys.Instance(instance.Id), NowMilliseconds(), lease);
        var renewed = await RenewStatesAsync(answers);
        await ListRenewedAsync(renewed);
        await heartbeat;
        return [.. renewed.Where(r => r.Outcome == Renewal.EndedElsewhere).Select(r => r.Answer.MessageId)];
    }

    internal enum Renewal { EndedElsewhere = 0, Streaming = 1, Rewritten = 2 }

    /// <summary>The first round trip of <see cref="RenewAsync"/>: each answer's state and lease.</summary>
    internal async Task<IReadOnlyList<(OwnedAnswer Answer, Renewal Outcome)>> RenewStatesAsync(IReadOnlyCollection<OwnedAnswer> answers)
    {
        if (answers.Count == 0)
        {
            return [];
        }

        var renewing = Db.CreateBatch();
        var renewed = answers.Select(a => (Answer: a, Reply: renewing.ScriptEvaluateAsync(
            GenerationScripts.Renew,
            [RedisKeys.Generation(a.ConversationId, a.MessageId), RedisKeys.Chunks(a.ConversationId, a.MessageId)],
            [LeaseMilliseconds, RunningTtlMilliseconds, a.ConversationId.ToString(), a.UserMessageId.ToString(), a.OwnerId, instance.Id, a.Epoch, FailoverName]))).ToArray();
        renewing.Execute();
        await Task.WhenAll(renewed.Select(r => r.Reply));
        return [.. renewed.Select(r => (r.Answer, (Renewal)(int)r.Reply.Result))];
    }

    /// <summary>
    /// The second round trip of <see cref="RenewAsync"/>: what was still streaming is listed again — its index entry, its
    /// place among the user's running answers extended (written again only where Redis lost the state), its conversation
    /// pointer.
    /// </summary>
    internal async Task ListRenewedAsync(IReadOnlyList<(OwnedAnswer Answer, Renewal Outcome)> renewed)
    {
        if (renewed.Count == 0)
        {
            return;
        }

        var listing = Db.CreateBatch();
        var listed = renewed.Where(r => r.Outcome != Renewal.EndedElsewhere).SelectMany(r =>
            ListLease(listing, r.Answer.ConversationId, r.Answer.MessageId, r.Answer.OwnerId, extendOnly: r.Outcome == Renewal.Streaming)
                .Append(SetPointerAsync(listing, r.Answer.ConversationId, r.Answer.MessageId, RunningTtlMilliseconds))).ToArray();
        listing.Execute();
        await Task.WhenAll(listed);
    }

    /// <summary>Removes this instance's heartbeat (it stops): what it still owns can be claimed at once.</summary>
    public Task StopHeartbeatAsync() => Db.KeyDeleteAsync(RedisKeys.Instance(instance.Id));

    /// <summary>
    /// What to do with an orphan: end it interrupted when this caller won the right to end it, or (no lease) save the
    /// status decided for it long ago and never saved; with <paramref name="takeOver"/>, carry it on when its state is
    /// still there (<see cref="OrphanClaim.Continuation"/>: this instance now owns it, with the next epoch). Null when
    /// it is not an orphan.
    /// </summary>
    public async Task<OrphanClaim?> ClaimOrphanAsync(Guid conversationId, Guid messageId, bool leaseExpired, bool takeOver)
    {
        var state = RedisKeys.Generation(conversationId, messageId);
        // Its instance's heartbeat is another slot's key: read first, then the script re-checks the lease in the state
        // itself, so an instance that renewed meanwhile keeps its answer.
        var owner = await Db.HashGetAsync(state, "instance");
        var alive = owner.HasValue && await Db.KeyExistsAsync(RedisKeys.Instance((string)owner!)) ? (string)owner! : "";
        var claimed = await Db.ScriptEvaluateAsync(
            GenerationScripts.ClaimOrphan,
            [state, RedisKeys.Lost(conversationId, messageId)],
            [UnsavedTtlMilliseconds, leaseExpired ? "expired" : "lost", (long)UnsavedGrace.TotalMilliseconds, (long)LostGrace.TotalMilliseconds, alive,
                takeOver ? "continue" : "end", instance.Id, LeaseMilliseconds, LostMarkerTtlMilliseconds]);
        if (claimed.Resp2Type != ResultType.Array)
        {
            if ((int)claimed == 1)
            {
                await UnlistLeaseAsync(conversationId, messageId, ownerId: null); // it ended: a stale index entry
            }

            return null;
        }

        if ((string)claimed[0]! == "continue")
        {
            var taken = new OwnedAnswer(messageId, conversationId, Guid.Parse((string)claimed[3]!), (string)claimed[2]!, (long)claimed[1]);
            var model = (string)claimed[4]!;
            var listing = Db.CreateBatch();
            Task[] listed = [.. ListLease(listing, conversationId, messageId, taken.OwnerId)];
            listing.Execute();
            await Task.WhenAll(listed);
            return new OrphanClaim(MessageStatus.Streaming, null, taken, model.Length == 0 ? null : model);
        }

        var (status, error, ownerId, named) = ((string)claimed[0]!, (string)claimed[1]!, (string)claimed[2]!, (string)claimed[3]!);
        await UnlistLeaseAsync(conversationId, messageId, ownerId);
        // Ended by this claim: charged here, under the ownership it ended (a charge its instance made before it died, or
        // makes when it wakes, is the same answer's: the last one stands, TokenSpender).
        var how = claimed.Length > 4 ? (string?)claimed[4] : null;
        var chargeTo = how == "ended" && ownerId.Length > 0 ? new AnswerCharge(ownerId, (long)claimed[5]) : null;
        // Decided and never saved: the usage its instance counted before deciding, saved as it would have saved it.
        var counted = how == "decided" ? DecodeUsage((string)claimed[5]!) : null;
        return new OrphanClaim(MessageStatusNames.ParseStatus(status), error.Length == 0 ? null : error, Model: named.Length == 0 ? null : named, ChargeTo: chargeTo, Usage: counted);
    }

    /// <summary>The state's <c>usage</c> field: "prompt:completion:estimated (1 or 0)"; "" for none.</summary>
    private static string EncodeUsage(TokenUsage? usage) =>
        usage is null ? "" : $"{usage.PromptTokens}:{usage.CompletionTokens}:{(usage.Estimated ? 1 : 0)}";

    private static TokenUsage? DecodeUsage(string field) => field.Split(':') is [var prompt, var completion, var estimated]
        ? new TokenUsage(long.Parse(prompt, CultureInfo.InvariantCulture), long.Parse(completion, CultureInfo.InvariantCulture)) { Estimated = estimated == "1" }
        : null;

    /// <summary>
    /// Keeps an ended answer's state and buffer while its save is retried: another <c>Chat:ReplayTtl</c> plus
    /// <see cref="SaveRetryMargin"/>, so they outlive the gap to the next attempt and the sweep that may save them; never
    /// less than an unsaved end's TTL (with a short Chat:ReplayTtl the retry took back part of that floor).
    /// </summary>
    public Task KeepAsync(Guid conversationId, Guid messageId) =>
        ExpireEndedAsync(conversationId, messageId, Math.Max(UnsavedTtlMilliseconds, TtlMilliseconds + (long)SaveRetryMargin.TotalMilliseconds));

    /// <summary>Longer than the save's retries (≈ 45 s) and the unsaved-answer sweep's grace.</summary>
    public static readonly TimeSpan SaveRetryMargin = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long an ended answer's state and buffer live until it is saved: <c>Chat:ReplayTtl</c>, but never less than
    /// the sweep's <see cref="UnsavedGrace"/> plus <see cref="SaveRetryMargin"/>. An instance that dies between deciding
    /// an end and saving it leaves the decided end and the text to the sweep, which waits out that grace first; with a
    /// shorter TTL they were gone by then and the answer was ended <c>interrupted</c>, empty.
    /// </summary>
    private long UnsavedTtlMilliseconds => Math.Max(TtlMilliseconds, (long)(UnsavedGrace + SaveRetryMargin).TotalMilliseconds);

    /// <summary>
    /// The answer is saved: its state and buffer live <c>Chat:ReplayTtl</c> from now. Only when that is shorter than
    /// <see cref="UnsavedTtlMilliseconds"/> (a call more per answer then, none with the default TTL).
    /// </summary>
    public Task SavedAsync(Guid conversationId, Guid messageId) =>
        TtlMilliseconds < UnsavedTtlMilliseconds ? ExpireEndedAsync(conversationId, messageId, TtlMilliseconds) : Task.CompletedTask;

    /// <summary>An ended answer's state, buffer and conversation pointer (those still there) live <paramref name="ttlMilliseconds"/> from now.</summary>
    private async Task ExpireEndedAsync(Guid conversationId, Guid messageId, long ttlMilliseconds)
    {
        await Db.ScriptEvaluateAsync(GenerationScripts.Keep, [RedisKeys.Generation(conversationId, messageId), RedisKeys.Chunks(conversationId, messageId)], [ttlMilliseconds]);
        await SetPointerAsync(Db, conversationId, messageId, ttlMilliseconds);
    }

    public async Task<GenerationInfo?> GetGenerationAsync(Guid conversationId, Guid messageId)
    {
        var fields = await Db.HashGetAllAsync(RedisKeys.Generation(conversationId, messageId));
        return GenerationInfo.FromHash(messageId, fields);
    }

    /// <summary>
    /// Sets the final status once and returns it: <paramref name="proposed"/>, or cancelled when a cancel came first.
    /// Null when <paramref name="epoch"/> is stale: another instance took the answer over, the caller ends nothing.
    /// </summary>
    public async Task<MessageStatus?> FinishAsync(Guid conversationId, Guid messageId, MessageStatus proposed, string? error, long epoch = 1, TokenUsage? usage = null)
    {
        var final = (RedisResult[])(await Db.ScriptEvaluateAsync(
            GenerationScripts.Finish,
            [RedisKeys.Generation(conversationId, messageId), RedisKeys.Chunks(conversationId, messageId)],
            [proposed.ToWireName(), UnsavedTtlMilliseconds, error ?? "", epoch, EncodeUsage(usage)]))!;
        if ((string)final[0]! == "fenced")
        {
            return null;
        }

        await UnlistLeaseAsync(conversationId, messageId, (string)final[1]!, pointerTtlMilliseconds: UnsavedTtlMilliseconds);
        return MessageStatusNames.ParseStatus((string)final[0]!);
    }

    /// <summary>This instance's Chat:Failover as an answer's state records it.</summary>
    private string FailoverName => options.Value.Failover == FailoverMode.Interrupt ? "interrupt" : "continue";

    private long LeaseMilliseconds => (long)options.Value.GenerationLease.TotalMilliseconds;

    /// <summary>This instance's clock: only for the heartbeat's value (for people reading Redis); nothing compares it.</summary>
    private long NowMilliseconds() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
