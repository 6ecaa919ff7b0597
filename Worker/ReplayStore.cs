using System.Globalization;
using ChatStreaming.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Worker;

/// <summary>
/// The Redis side of an answer: its generation state (a hash) and its replay buffer (a stream whose entry ids are
/// <c>0-sequence</c>, so a chunk can be written once only and read back from any sequence).
/// Invariant: a chunk is in the replay buffer before it is broadcast, so a client that sees a gap can always fetch it.
/// </summary>
public sealed class ReplayStore(IConnectionMultiplexer redis, IOptions<ChatStreamingOptions> options)
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

    // The TTL slides with every chunk, so a buffer lives ReplayTtl after its last chunk (and a key recreated after a
    // Redis restart gets one too). Idempotent: a chunk offered again (its first write timed out) is not written twice.
    private const string AppendScript = """
        local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
        if last and tonumber(string.sub(last[1], 3)) >= tonumber(ARGV[1]) then
            return 0
        end
        redis.call('XADD', KEYS[1], '0-' .. ARGV[1], 'd', ARGV[2], 't', ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
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

    public Task AppendAsync(Chunk chunk) =>
        Db.ScriptEvaluateAsync(
            AppendScript,
            [RedisKeys.Chunks(chunk.MessageId)],
            [chunk.Sequence, chunk.Delta, chunk.EmittedAt.ToString("R", CultureInfo.InvariantCulture), TtlMilliseconds]);

    public async Task<GenerationInfo?> GetGenerationAsync(Guid messageId)
    {
        var fields = await Db.HashGetAllAsync(RedisKeys.Generation(messageId));
        return ToGeneration(messageId, fields);
    }

    /// <summary>The chunks after <paramref name="afterSequence"/>, in order, or null when the buffer is gone.</summary>
    public async Task<(GenerationInfo Generation, IReadOnlyList<Chunk> Chunks)?> GetChunksAsync(Guid messageId, long afterSequence)
    {
        var batch = Db.CreateBatch();
        var state = batch.HashGetAllAsync(RedisKeys.Generation(messageId));
        var entries = batch.StreamRangeAsync(RedisKeys.Chunks(messageId), minId: $"({StreamId(afterSequence)}", maxId: "+");
        batch.Execute();
        var generation = ToGeneration(messageId, await state);
        if (generation is null)
        {
            return null;
        }

        return (generation, [.. (await entries).Select(e => ToChunk(generation.ConversationId, messageId, e))]);
    }

    /// <summary>The text streamed so far (the whole buffer, deltas joined).</summary>
    public async Task<StreamedText> GetStreamedTextAsync(Guid messageId)
    {
        var entries = await Db.StreamRangeAsync(RedisKeys.Chunks(messageId), "-", "+");
        var text = string.Concat(entries.Select(e => (string?)e["d"]));
        return new StreamedText(text, entries.Length == 0 ? 0 : SequenceOf(entries[^1].Id));
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

    private static GenerationInfo? ToGeneration(Guid messageId, HashEntry[] fields)
    {
        if (fields.Length == 0)
        {
            return null;
        }

        var map = fields.ToDictionary(f => (string)f.Name!, f => (string)f.Value!);
        if (!map.TryGetValue("conversation", out var conversation) || !map.TryGetValue("owner", out var owner))
        {
            return null; // a partial hash (recreated after a Redis restart) proves nothing about ownership
        }

        return new GenerationInfo(
            messageId,
            Guid.Parse(conversation),
            Guid.Parse(map["userMessage"]),
            owner,
            MessageStatusNames.ParseStatus(map["status"]));
    }

    private static Chunk ToChunk(Guid conversationId, Guid messageId, StreamEntry entry) => new(
        conversationId,
        messageId,
        SequenceOf(entry.Id),
        (string?)entry["d"] ?? "",
        double.Parse((string)entry["t"]!, CultureInfo.InvariantCulture));

    private static string StreamId(long sequence) => $"0-{sequence.ToString(CultureInfo.InvariantCulture)}";

    private static long SequenceOf(RedisValue streamId)
    {
        var id = (string)streamId!;
        return long.Parse(id.AsSpan(id.IndexOf('-') + 1), CultureInfo.InvariantCulture);
    }
}
