using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Limits;

/// <summary>
/// Per-user limits shared by every instance (the counters live in Redis): messages per minute (a sliding 60 s window)
/// and answers running at once, tokens per UTC day, and per-minute counts of other hub calls (conversations created, reads). A send is admitted, then its reservation becomes the answer's entry when the answer
/// is registered (<see cref="GenerationState.RegisterAsync"/>), or is given back if nothing was started.
/// </summary>
public sealed class UserLimiter(IConnectionMultiplexer redis, IOptions<ChatStreamingOptions> options, TimeProvider time)
{
    private const long WindowMilliseconds = 60_000;

    /// <summary>How long an admitted send may take to be registered before its reservation stops counting.</summary>
    private const long ReservationMilliseconds = 30_000;

    /// <summary>What a refused user is told to wait when too many answers run (an answer's end cannot be predicted).</summary>
    public static readonly TimeSpan ConcurrencyRetryAfter = TimeSpan.FromSeconds(2);

    // KEYS: sends, active (answers scored by their lease expiry, reservations by when they lapse), today's tokens: all
    // the user's, one slot. ARGV: per minute, concurrent, send id, reservation ms, key ttl ms, window ms, '1' to admit it
    // as new even if its send id is in the window, tokens per day, ms until the day ends. Times are Redis's (RedisClock).
    // Returns {0, 1, send added, reservation added} admitted and counted, {0, 0} a retry of a send admitted within the
    // window (not counted again), {1, ms} too many messages this minute (ms until the oldest leaves the window), {2, 0}
    // too many answers running, {3, ms} the day's token budget is spent (ms until midnight UTC).
    // Admitted as new (ARGV[7]) while its key's entries are still there (a twin of this send, not saved yet, or one that
    // saved nothing): those entries are this very send's, so they are not counted against it, and the added flags say
    // they were not this admission's to give back.
    private const string AdmitScript = RedisClock.Now + """
        local perMinute = tonumber(ARGV[1])
        local concurrent = tonumber(ARGV[2])
        local window = tonumber(ARGV[6])
        local budget = tonumber(ARGV[8])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        local seen = redis.call('ZSCORE', KEYS[1], ARGV[3])
        if ARGV[7] ~= '1' and seen then
            return {0, 0}
        end
        if budget > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') >= budget then
            return {3, tonumber(ARGV[9])}
        end
        if perMinute > 0 and redis.call('ZCARD', KEYS[1]) - (seen and 1 or 0) >= perMinute then
            local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
            return {1, tonumber(oldest[2]) + window - now}
        end
        local reserved = 0
        if concurrent > 0 then
            redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
            local own = redis.call('ZSCORE', KEYS[2], 'r:' .. ARGV[3])
            if redis.call('ZCARD', KEYS[2]) - (own and 1 or 0) >= concurrent then
                return {2, 0}
            end
            reserved = redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), 'r:' .. ARGV[3])
            redis.call('PEXPIRE', KEYS[2], ARGV[5])
        end
        local sent = redis.call('ZADD', KEYS[1], now, ARGV[3])
        redis.call('PEXPIRE', KEYS[1], window)
        return {0, 1, sent, reserved}
        """;

    // A fixed 60 s window per user and kind of call. KEYS: the counter. ARGV: limit, window ms.
    // Returns -1 when allowed, else the ms until the window ends.
    private const string CallScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        if n > tonumber(ARGV[1]) then
            local left = redis.call('PTTL', KEYS[1])
            if left < 0 then
                redis.call('PEXPIRE', KEYS[1], ARGV[2])
                left = tonumber(ARGV[2])
            end
            return left
        end
        return -1
        """;

    private ChatStreamingOptions Options => options.Value;

    /// <summary>
    /// Counts one call of <paramref name="kind"/> against its per-minute limit (<paramref name="perMinute"/>, 0 = none),
    /// shared by all instances. Null when allowed, else how long to wait.
    /// </summary>
    /// <exception cref="RedisException">Redis cannot be reached.</exception>
    public async Task<TimeSpan?> CountCallAsync(string userId, string kind, int perMinute)
    {
        if (perMinute <= 0)
        {
            return null;
        }

        var left = (long)await redis.GetDatabase().ScriptEvaluateAsync(CallScript, [RedisKeys.UserCalls(userId, kind)], [perMinute, WindowMilliseconds]);
        return left < 0 ? null : TimeSpan.FromMilliseconds(left);
    }

    private bool Enabled => Options.MessagesPerMinutePerUser > 0 || Options.MaxConcurrentGenerationsPerUser > 0 || Options.TokensPerDayPerUser > 0;

    /// <summary>
    /// Counts a send against the user's limits, or says why not. Its key is (user, conversation, client message id):
    /// a send with a key admitted in the last minute is a retry, admitted without counting again
    /// (<see cref="Admission.SeenBefore"/>) — the caller must then find what that send saved, and if the database does
    /// not know it, admit it again with <paramref name="asNew"/>: a "retry" that saved nothing is a new send.
    /// </summary>
    /// <exception cref="RedisException">Redis cannot be reached.</exception>
    internal async Task<Admission> AdmitAsync(string userId, Guid conversationId, string? clientMessageId, bool asNew = false)
    {
        var sendId = clientMessageId is null ? "g:" + Guid.NewGuid().ToString("N") : $"c:{conversationId:N}:{clientMessageId}";
        if (!Enabled)
        {
            return new Admission(AdmissionResult.Admitted, sendId, TimeSpan.Zero);
        }

        // The window's times are Redis's (TIME in the script); the day of the token budget is this instance's UTC date.
        var utcNow = time.GetUtcNow();
        var today = DateOnly.FromDateTime(utcNow.UtcDateTime);
        var untilMidnight = (long)(today.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc) - utcNow.UtcDateTime).TotalMilliseconds;
        var reply = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(
            AdmitScript,
            [RedisKeys.UserSends(userId), RedisKeys.UserActive(userId), RedisKeys.UserTokens(userId, today)],
            [Options.MessagesPerMinutePerUser, Options.MaxConcurrentGenerationsPerUser, sendId, ReservationMilliseconds,
                (long)Options.ReplayTtl.TotalMilliseconds, WindowMilliseconds, asNew ? "1" : "0", Options.TokensPerDayPerUser, untilMidnight]))!;
        return ((int)reply[0], (long)reply[1]) switch
        {
            (0, 1) => new Admission(AdmissionResult.Admitted, sendId, TimeSpan.Zero) { AddedSend = (long)reply[2] == 1, AddedReservation = (long)reply[3] == 1 },
            (0, _) => new Admission(AdmissionResult.Admitted, sendId, TimeSpan.Zero) { SeenBefore = true },
            (1, var waitMs) => new Admission(AdmissionResult.TooManyMessages, sendId, TimeSpan.FromMilliseconds(waitMs)),
            (3, var waitMs) => new Admission(AdmissionResult.TokenBudgetSpent, sendId, TimeSpan.FromMilliseconds(waitMs)),
            _ => new Admission(AdmissionResult.TooManyRunning, sendId, ConcurrencyRetryAfter),
        };
    }

    // KEYS: today's total, today's per-answer counts (the user's slot). ARGV: message id, epoch, tokens, TTL ms.
    // The answer's count becomes `tokens` (the total moves by the difference) unless a later ownership counted it.
    // Returns 1 when counted, 0 when a later ownership's count stands.
    private const string ChargeScript = """
        local epoch = tonumber(ARGV[2])
        local before = 0
        local old = redis.call('HGET', KEYS[2], ARGV[1])
        if old then
            local colon = string.find(old, ':', 1, true)
            if tonumber(string.sub(old, 1, colon - 1)) > epoch then
                return 0
            end
            before = tonumber(string.sub(old, colon + 1))
        end
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
        redis.call('INCRBY', KEYS[1], tonumber(ARGV[3]) - before)
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('PEXPIRE', KEYS[2], ARGV[4])
        return 1
        """;

    /// <summary>
    /// Counts an answer's <paramref name="tokens"/> in the user's total for today (UTC), which the next sends are checked
    /// against when Chat:TokensPerDayPerUser is set; counted when the answer ends, so the answer that crosses the budget
    /// finishes. Once per answer: a count under ownership <paramref name="epoch"/> replaces the answer's count made under
    /// the same or an earlier one that day, and is ignored after a later one's. True when counted.
    /// </summary>
    /// <exception cref="RedisException">Redis cannot be reached.</exception>
    public async Task<bool> SpendTokensAsync(string userId, Guid messageId, long epoch, long tokens)
    {
        if (Options.TokensPerDayPerUser <= 0)
        {
            return false;
        }

        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        return (long)await redis.GetDatabase().ScriptEvaluateAsync(
            ChargeScript,
            [RedisKeys.UserTokens(userId, today), RedisKeys.UserTokenCharges(userId, today)],
            [messageId.ToString("N"), epoch, tokens, (long)TimeSpan.FromDays(2).TotalMilliseconds]) == 1;
    }

    /// <summary>
    /// Gives back what <see cref="AdmitAsync"/> added when no answer was started after all: only that (entries a twin of
    /// the same send added first are the twin's, which may still start its answer).
    /// </summary>
    internal async Task RefundAsync(string userId, Admission admission)
    {
        if (!admission.AddedSend && !admission.AddedReservation)
        {
            return;
        }

        var batch = redis.GetDatabase().CreateBatch();
        Task[] removed =
        [
            admission.AddedSend ? batch.SortedSetRemoveAsync(RedisKeys.UserSends(userId), admission.SendId) : Task.CompletedTask,
            admission.AddedReservation ? batch.SortedSetRemoveAsync(RedisKeys.UserActive(userId), admission.Reservation) : Task.CompletedTask,
        ];
        batch.Execute();
        await Task.WhenAll(removed);
    }
}
