using ChatStreaming.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Redis;

/// <summary>
/// The Redis side of an answer's life (<see cref="RedisKeys.Generation"/>, <see cref="RedisKeys.Leases"/>): registered
/// as streaming with a lease, its cancel flag, its final status decided once, and the claim of an orphan whose owner is
/// gone. Its chunks are in the <see cref="ReplayBuffer"/>.
/// </summary>
public sealed class GenerationState(IConnectionMultiplexer redis, IOptions<ChatStreamingOptions> options)
{
    private const string RegisterScript = """
        redis.call('HSET', KEYS[1], 'conversation', ARGV[1], 'userMessage', ARGV[2], 'owner', ARGV[3], 'status', 'streaming')
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
        redis.call('PEXPIRE', KEYS[2], ARGV[4])
        redis.call('ZADD', KEYS[3], 0, ARGV[6])
        redis.call('ZREM', KEYS[3], ARGV[7])
        redis.call('PEXPIRE', KEYS[3], ARGV[4])
        return 1
        """;

    private const string RequestCancelScript = """
        if redis.call('HGET', KEYS[1], 'status') == 'streaming' then
            redis.call('HSET', KEYS[1], 'cancel', '1')
            return 1
        end
        return 0
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

    // Ends an answer whose owner is gone, once: its lease ran out (ARGV[4] = 'expired'), or it has no lease at all
    // (ARGV[4] = 'lost': Postgres still says streaming). Returns 'interrupted' when this caller claimed it, or, in
    // 'lost' mode, the status already decided for an answer that ended more than ARGV[5] ms ago but was never saved
    // (its instance died or gave up between deciding and saving), each with the error recorded, if any; 0 otherwise.
    private const string ClaimOrphanScript = """
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if ARGV[4] == 'expired' then
            if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
        elseif score then
            return 0
        end
        local status = redis.call('HGET', KEYS[2], 'status')
        if status and status ~= 'streaming' then
            local ended = tonumber(redis.call('HGET', KEYS[2], 'ended') or '0')
            if ARGV[4] == 'lost' and ended < tonumber(ARGV[2]) - tonumber(ARGV[5]) then
                return {status, redis.call('HGET', KEYS[2], 'error') or ''}
            end
            return 0
        end
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HSET', KEYS[2], 'status', 'interrupted', 'ended', ARGV[2])
        redis.call('PEXPIRE', KEYS[2], ARGV[3])
        return {'interrupted', redis.call('HGET', KEYS[2], 'error') or ''}
        """;

    /// <summary>How long an instance may take to save an answer it ended before a sweep saves it instead.</summary>
    public static readonly TimeSpan UnsavedGrace = TimeSpan.FromSeconds(60);

    private IDatabase Db => redis.GetDatabase();

    private long TtlMilliseconds => (long)options.Value.ReplayTtl.TotalMilliseconds;

    /// <summary>
    /// Records a new answer as streaming, owned by <paramref name="ownerId"/>, with a first lease; it takes the place
    /// <paramref name="admission"/> reserved among the user's running answers (it counts there while its lease is listed).
    /// </summary>
    public Task RegisterAsync(Guid messageId, Guid conversationId, Guid userMessageId, string ownerId, Admission admission) =>
        Db.ScriptEvaluateAsync(
            RegisterScript,
            [RedisKeys.Generation(messageId), RedisKeys.Leases, RedisKeys.UserActive(ownerId)],
            [conversationId.ToString(), userMessageId.ToString(), ownerId, TtlMilliseconds, LeaseExpiry(), messageId.ToString("N"), admission.Reservation]);

    /// <summary>Extends the leases of answers this instance owns (only those still listed: an ended one is not revived).</summary>
    public async Task RenewLeasesAsync(IReadOnlyCollection<Guid> messageIds)
    {
        if (messageIds.Count == 0)
        {
            return;
        }

        var expiry = LeaseExpiry();
        await Db.SortedSetAddAsync(RedisKeys.Leases, [.. messageIds.Select(id => new SortedSetEntry(id.ToString("N"), expiry))], SortedSetWhen.Exists);
        await Db.KeyExpireAsync(RedisKeys.Leases, options.Value.ReplayTtl);
    }

    /// <summary>Answers whose lease ran out: their instance stopped renewing them.</summary>
    public async Task<IReadOnlyList<Guid>> ExpiredLeasesAsync()
    {
        var expired = await Db.SortedSetRangeByScoreAsync(RedisKeys.Leases, double.NegativeInfinity, NowMilliseconds(), take: 100);
        return [.. expired.Select(id => Guid.ParseExact((string)id!, "N"))];
    }

    /// <summary>
    /// The status (and error, if one was recorded) to save an orphan with: interrupted when this caller won the right to
    /// end it, or (no lease) the status decided for it long ago and never saved; null when it is not an orphan.
    /// </summary>
    public async Task<(MessageStatus Status, string? Error)?> ClaimOrphanAsync(Guid messageId, bool leaseExpired)
    {
        var claimed = await Db.ScriptEvaluateAsync(
            ClaimOrphanScript,
            [RedisKeys.Leases, RedisKeys.Generation(messageId)],
            [messageId.ToString("N"), NowMilliseconds(), TtlMilliseconds, leaseExpired ? "expired" : "lost", (long)UnsavedGrace.TotalMilliseconds]);
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
    public Task KeepAsync(Guid messageId) =>
        Db.ScriptEvaluateAsync(KeepScript, [RedisKeys.Generation(messageId), RedisKeys.Chunks(messageId)],
            [TtlMilliseconds + (long)SaveRetryMargin.TotalMilliseconds]);

    /// <summary>Longer than the save's retries (≈ 45 s) and the unsaved-answer sweep's grace.</summary>
    public static readonly TimeSpan SaveRetryMargin = TimeSpan.FromMinutes(2);

    public async Task<GenerationInfo?> GetGenerationAsync(Guid messageId)
    {
        var fields = await Db.HashGetAllAsync(RedisKeys.Generation(messageId));
        return GenerationInfo.FromHash(messageId, fields);
    }

    /// <summary>Flags a streaming answer for cancellation. False when it has already ended (or is unknown).</summary>
    public async Task<bool> RequestCancelAsync(Guid messageId)
    {
        var requested = (int)await Db.ScriptEvaluateAsync(RequestCancelScript, [RedisKeys.Generation(messageId)]) == 1;
        if (requested)
        {
            await redis.GetSubscriber().PublishAsync(RedisKeys.Cancellations, messageId.ToString());
        }

        return requested;
    }

    public async Task<bool> IsCancelRequestedAsync(Guid messageId) =>
        await Db.HashGetAsync(RedisKeys.Generation(messageId), "cancel") == "1";

    /// <summary>Sets the final status once and returns it: <paramref name="proposed"/>, or cancelled when a cancel came first.</summary>
    public async Task<MessageStatus> FinishAsync(Guid messageId, MessageStatus proposed, string? error)
    {
        var final = await Db.ScriptEvaluateAsync(
            FinishScript,
            [RedisKeys.Generation(messageId), RedisKeys.Chunks(messageId), RedisKeys.Leases],
            [proposed.ToWireName(), TtlMilliseconds, messageId.ToString("N"), NowMilliseconds(), error ?? ""]);
        return MessageStatusNames.ParseStatus((string)final!);
    }

    private long LeaseExpiry() => NowMilliseconds() + (long)options.Value.GenerationLease.TotalMilliseconds;

    private static long NowMilliseconds() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
