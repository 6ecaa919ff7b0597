using ChatStreaming.Contracts;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// The Redis side of an answer's life (<see cref="RedisKeys.Generation"/>, <see cref="RedisKeys.Leases"/>): registered
/// as streaming with a lease, its cancel flag, its final status decided once, and the claim of an orphan whose owner is
/// gone. Its chunks are in the <see cref="Streaming.ReplayStream"/>.
/// </summary>
internal sealed partial class GenerationState(IConnectionMultiplexer redis, InstanceIdentity instance, Cancellations cancellations, IOptions<ChatStreamingOptions> options)
{
    // One call per renewal for every answer this instance owns: KEYS = leases, then each answer's state; ARGV = lease
    // expiry, TTL, then per answer its lease member, conversation, user message, owner. An answer still streaming (or whose state
    // Redis lost, e.g. a restart without persistence) gets its lease and state back with a fresh TTL; one ended
    // elsewhere is not revived: its id is returned, so its generator stops here.
    private const string RenewScript = """
        local ended = {}
        for i = 2, #KEYS do
            local a = 3 + (i - 2) * 4
            local status = redis.call('HGET', KEYS[i], 'status')
            if status and status ~= 'streaming' then
                ended[#ended + 1] = ARGV[a]
            else
                if not status then
                    redis.call('HSET', KEYS[i], 'conversation', ARGV[a + 1], 'userMessage', ARGV[a + 2], 'owner', ARGV[a + 3],
                        'status', 'streaming', 'instance', ARGV[#ARGV])
                end
                redis.call('PEXPIRE', KEYS[i], ARGV[2])
                redis.call('ZADD', KEYS[1], ARGV[1], ARGV[a])
            end
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return ended
        """;

    private const string RegisterScript = """
        redis.call('HSET', KEYS[1], 'conversation', ARGV[1], 'userMessage', ARGV[2], 'owner', ARGV[3], 'status', 'streaming', 'instance', ARGV[8])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
        redis.call('PEXPIRE', KEYS[2], ARGV[4])
        redis.call('ZADD', KEYS[3], 0, ARGV[6])
        redis.call('ZREM', KEYS[3], ARGV[7])
        redis.call('PEXPIRE', KEYS[3], ARGV[4])
        return 1
        """;

    // Decides the final status once: a cancel request that came first wins over the model's own end. Records when
    // (and why) it ended, so a sweep can still save it if its instance never manages to (ClaimOrphanScript).
    private const string FinishScript = """
        local current = redis.call('HGET', KEYS[1], 'status')
        if current and current ~= 'streaming' then
            return current
        end
        local final = ARGV[1]
        if redis.call('HGET', KEYS[1], 'cancel') == '1' then
            final = 'cancelled'
        end
        redis.call('HSET', KEYS[1], 'status', final, 'ended', ARGV[4])
        if final == ARGV[1] and ARGV[5] ~= '' then
            redis.call('HSET', KEYS[1], 'error', ARGV[5])
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        if redis.call('EXISTS', KEYS[2]) == 1 then
            redis.call('PEXPIRE', KEYS[2], ARGV[2])
        end
        redis.call('ZREM', KEYS[3], ARGV[3])
        return final
        """;

    // Keeps an ended answer's state and buffer for another ReplayTtl while its save is still being retried.
    private const string KeepScript = """
        for i = 1, #KEYS do
            if redis.call('EXISTS', KEYS[i]) == 1 then
                redis.call('PEXPIRE', KEYS[i], ARGV[1])
            end
        end
        return 1
        """;

    // Ends an answer whose owner is gone, once. KEYS: leases, state, lost marker. ARGV: id, now, ttl, mode, unsaved
    // grace, instance key prefix, lost grace. Mode 'expired': its lease ran out. Mode 'lost': Postgres says streaming
    // and it has no lease. Either way it is claimed only when no live instance owns it: its instance's heartbeat is
    // gone, or (its state is gone too: Redis lost its data) no instance re-created that state within the lost grace.
    // Returns 'interrupted' when this caller claimed it, or, in 'lost' mode, the status already decided for an answer
    // that ended more than the unsaved grace ago but was never saved (its instance died or gave up between deciding
    // and saving), each with the error recorded, if any; 0 otherwise.
    private const string ClaimOrphanScript = """
        local now = tonumber(ARGV[2])
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if ARGV[4] == 'expired' then
            if not score or tonumber(score) > now then return 0 end
        elseif score then
            return 0
        end
        local status = redis.call('HGET', KEYS[2], 'status')
        if status and status ~= 'streaming' then
            local ended = tonumber(redis.call('HGET', KEYS[2], 'ended') or '0')
            if ARGV[4] == 'lost' and ended < now - tonumber(ARGV[5]) then
                return {status, redis.call('HGET', KEYS[2], 'error') or ''}
            end
            redis.call('ZREM', KEYS[1], ARGV[1]) -- a stale lease of an ended answer
            return 0
        end
        local instance = redis.call('HGET', KEYS[2], 'instance')
        if instance and redis.call('EXISTS', ARGV[6] .. instance) == 1 then
            return 0 -- its instance is alive and renews it
        end
        if not status and ARGV[4] == 'lost' then
            local first = redis.call('GET', KEYS[3])
            if not first then
                redis.call('SET', KEYS[3], now, 'PX', ARGV[3])
                return 0
            end
            if tonumber(first) > now - tonumber(ARGV[7]) then return 0 end
        end
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('DEL', KEYS[3])
        redis.call('HSET', KEYS[2], 'status', 'interrupted', 'ended', now)
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
        return {'interrupted', redis.call('HGET', KEYS[2], 'error') or ''}
        """;

    /// <summary>
    /// How long an answer whose state Redis lost (a restart) waits, from the first sweep that saw it so, before a sweep
    /// claims it: three leases and at least 30 s, far longer than a renewal (a third of a lease) plus reconnecting to
    /// the restarted Redis, after which its live instance, if any, has re-created its state.
    /// </summary>
    private TimeSpan LostGrace => TimeSpan.FromTicks(Math.Max(3 * options.Value.GenerationLease.Ticks, TimeSpan.FromSeconds(30).Ticks));

    /// <summary>How long an instance may take to save an answer it ended before a sweep saves it instead.</summary>
    public static readonly TimeSpan UnsavedGrace = TimeSpan.FromSeconds(60);

    private IDatabase Db => redis.GetDatabase();

    private long TtlMilliseconds => (long)options.Value.ReplayTtl.TotalMilliseconds;

    /// <summary>
    /// The TTL of a running answer's state: the replay TTL, but never shorter than two leases, so it outlives the gap to
    /// the next renewal and the answer stays cancellable for its whole life, however short <c>Chat:ReplayTtl</c> is.
    /// </summary>
    private long RunningTtlMilliseconds => Math.Max(TtlMilliseconds, 2 * (long)options.Value.GenerationLease.TotalMilliseconds);

    /// <summary>
    /// Records a new answer as streaming, owned by <paramref name="ownerId"/>, with a first lease; it takes the place
    /// <paramref name="admission"/> reserved among the user's running answers (it counts there while its lease is listed).
    /// Also records which conversation it belongs to (<see cref="RedisKeys.AnswerConversation"/>).
    /// </summary>
    public async Task RegisterAsync(Guid messageId, Guid conversationId, Guid userMessageId, string ownerId, Admission admission)
    {
        var pointer = SetPointerAsync(Db, conversationId, messageId, RunningTtlMilliseconds);
        await Db.ScriptEvaluateAsync(
            RegisterScript,
            [RedisKeys.Generation(conversationId, messageId), RedisKeys.Leases, RedisKeys.UserActive(ownerId)],
            [conversationId.ToString(), userMessageId.ToString(), ownerId, RunningTtlMilliseconds, LeaseExpiry(), RedisKeys.LeaseMember(conversationId, messageId), admission.Reservation, instance.Id]);
        await pointer;
    }

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
    /// This instance's heartbeat and the leases and state of the answers it owns, renewed in one round trip; returns
    /// those that ended elsewhere (an instance that thought this one gone claimed them): their generation must stop.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> RenewAsync(IReadOnlyCollection<OwnedAnswer> answers)
    {
        var lease = options.Value.GenerationLease;
        var heartbeat = Db.StringSetAsync(RedisKeys.Instance(instance.Id), NowMilliseconds(), lease);
        if (answers.Count == 0)
        {
            await heartbeat;
            return [];
        }

        RedisKey[] keys = [RedisKeys.Leases, .. answers.Select(a => RedisKeys.Generation(a.ConversationId, a.MessageId))];
        RedisValue[] args =
        [
            LeaseExpiry(), RunningTtlMilliseconds,
            .. answers.SelectMany(a => new RedisValue[] { RedisKeys.LeaseMember(a.ConversationId, a.MessageId), a.ConversationId.ToString(), a.UserMessageId.ToString(), a.OwnerId }),
            instance.Id,
        ];
        var ended = ((RedisResult[])(await Db.ScriptEvaluateAsync(RenewScript, keys, args))!).Select(member => RedisKeys.ParseLeaseMember((string)member!).MessageId).ToHashSet();
        var pointers = Db.CreateBatch();
        var written = answers.Where(a => !ended.Contains(a.MessageId)).Select(a => SetPointerAsync(pointers, a.ConversationId, a.MessageId, RunningTtlMilliseconds)).ToArray();
        pointers.Execute();
        await Task.WhenAll(written);
        await heartbeat;
        return [.. ended];
    }

    /// <summary>Removes this instance's heartbeat (it stops): what it still owns can be claimed at once.</summary>
    public Task StopHeartbeatAsync() => Db.KeyDeleteAsync(RedisKeys.Instance(instance.Id));

    /// <summary>Answers whose lease ran out: their instance stopped renewing them.</summary>
    public async Task<IReadOnlyList<(Guid ConversationId, Guid MessageId)>> ExpiredLeasesAsync()
    {
        var expired = await Db.SortedSetRangeByScoreAsync(RedisKeys.Leases, double.NegativeInfinity, NowMilliseconds(), take: 100);
        return [.. expired.Select(member => RedisKeys.ParseLeaseMember((string)member!))];
    }

    /// <summary>
    /// The status (and error, if one was recorded) to save an orphan with: interrupted when this caller won the right to
    /// end it, or (no lease) the status decided for it long ago and never saved; null when it is not an orphan.
    /// </summary>
    public async Task<(MessageStatus Status, string? Error)?> ClaimOrphanAsync(Guid conversationId, Guid messageId, bool leaseExpired)
    {
        var claimed = await Db.ScriptEvaluateAsync(
            ClaimOrphanScript,
            [RedisKeys.Leases, RedisKeys.Generation(conversationId, messageId), RedisKeys.Lost(conversationId, messageId)],
            [RedisKeys.LeaseMember(conversationId, messageId), NowMilliseconds(), TtlMilliseconds, leaseExpired ? "expired" : "lost", (long)UnsavedGrace.TotalMilliseconds,
                RedisKeys.InstancePrefix, (long)LostGrace.TotalMilliseconds]);
        if (claimed.Resp2Type != ResultType.Array)
        {
            return null;
        }

        var (status, error) = ((string)claimed[0]!, (string)claimed[1]!);
        return (MessageStatusNames.ParseStatus(status), error.Length == 0 ? null : error);
    }

    /// <summary>
    /// Keeps an ended answer's state and buffer while its save is retried: another <c>Chat:ReplayTtl</c> plus
    /// <see cref="SaveRetryMargin"/>, so they outlive the gap to the next attempt and the sweep that may save them.
    /// </summary>
    public async Task KeepAsync(Guid conversationId, Guid messageId)
    {
        var ttl = TtlMilliseconds + (long)SaveRetryMargin.TotalMilliseconds;
        await Db.ScriptEvaluateAsync(KeepScript, [RedisKeys.Generation(conversationId, messageId), RedisKeys.Chunks(conversationId, messageId)], [ttl]);
        await SetPointerAsync(Db, conversationId, messageId, ttl);
    }

    /// <summary>Longer than the save's retries (≈ 45 s) and the unsaved-answer sweep's grace.</summary>
    public static readonly TimeSpan SaveRetryMargin = TimeSpan.FromMinutes(2);

    public async Task<GenerationInfo?> GetGenerationAsync(Guid conversationId, Guid messageId)
    {
        var fields = await Db.HashGetAllAsync(RedisKeys.Generation(conversationId, messageId));
        return GenerationInfo.FromHash(messageId, fields);
    }

    /// <summary>Sets the final status once and returns it: <paramref name="proposed"/>, or cancelled when a cancel came first.</summary>
    public async Task<MessageStatus> FinishAsync(Guid conversationId, Guid messageId, MessageStatus proposed, string? error)
    {
        var final = await Db.ScriptEvaluateAsync(
            FinishScript,
            [RedisKeys.Generation(conversationId, messageId), RedisKeys.Chunks(conversationId, messageId), RedisKeys.Leases],
            [proposed.ToWireName(), TtlMilliseconds, RedisKeys.LeaseMember(conversationId, messageId), NowMilliseconds(), error ?? ""]);
        await SetPointerAsync(Db, conversationId, messageId, TtlMilliseconds);
        return MessageStatusNames.ParseStatus((string)final!);
    }

    private long LeaseExpiry() => NowMilliseconds() + (long)options.Value.GenerationLease.TotalMilliseconds;

    private static long NowMilliseconds() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
