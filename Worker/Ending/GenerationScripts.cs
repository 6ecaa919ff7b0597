using ChatStreaming.Worker.Redis;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// The Lua scripts of an answer's life (<see cref="GenerationState"/>). Each touches one answer's keys only — its state
/// and, for some, its replay buffer or lost marker, all under the conversation's hash tag — so each runs in one slot of
/// a Redis Cluster. The lease's truth is the state's <c>lease</c> field (Unix ms); the lease index and the user's
/// running answers are kept beside it by separate scripts (<see cref="RedisClock.ListUntil"/>, <see cref="Expired"/>).
/// Every time a script writes or compares is Redis's own (<see cref="RedisClock"/>): callers pass durations.
/// Fencing: the state's <c>epoch</c> counts the answer's ownerships (1 at registration, +1 by every takeover); renewal,
/// append (ReplayStream) and finish refuse a writer whose epoch is not the current one, so an owner that was paused and
/// wakes after a takeover adds nothing: no chunk, no renewal, no end.
/// </summary>
internal static class GenerationScripts
{
    /// <summary>
    /// KEYS: state, the conversation's deletion mark. ARGV: conversation, user message, owner, TTL, lease (ms), instance,
    /// model (may be empty), failover ('continue' or 'interrupt': the starting instance's Chat:Failover, which decides the
    /// answer's fate if it stops). Returns 1, or 0 (nothing written) when the conversation is being deleted.
    /// </summary>
    public const string Register = RedisClock.Now + """
        if redis.call('EXISTS', KEYS[2]) == 1 then
            return 0
        end
        redis.call('HSET', KEYS[1], 'conversation', ARGV[1], 'userMessage', ARGV[2], 'owner', ARGV[3], 'status', 'streaming',
            'instance', ARGV[6], 'lease', now + tonumber(ARGV[5]), 'epoch', 1, 'model', ARGV[7], 'failover', ARGV[8])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return 1
        """;

    /// <summary>
    /// KEYS: state, chunks. ARGV: lease (ms), TTL, conversation, user message, owner, instance, epoch, failover. An answer
    /// still streaming under this epoch gets its lease, and its state and replay buffer a fresh TTL (1), one whose state
    /// Redis lost (a restart without persistence) is written again (2); one ended elsewhere, or taken over by another
    /// instance, is not revived (0), so its generator stops here.
    /// </summary>
    public const string Renew = RedisClock.Now + """
        local state = redis.call('HMGET', KEYS[1], 'status', 'epoch')
        if (state[1] and state[1] ~= 'streaming') or (state[2] and state[2] ~= ARGV[7]) then
            return 0
        end
        local renewed = 1
        if not state[1] then
            redis.call('HSET', KEYS[1], 'conversation', ARGV[3], 'userMessage', ARGV[4], 'owner', ARGV[5], 'status', 'streaming',
                'instance', ARGV[6], 'epoch', ARGV[7], 'failover', ARGV[8])
            renewed = 2
        end
        redis.call('HSET', KEYS[1], 'lease', now + tonumber(ARGV[1]))
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        if redis.call('EXISTS', KEYS[2]) == 1 then
            redis.call('PEXPIRE', KEYS[2], ARGV[2]) -- a model silent for long: its buffer stays for a successor
        end
        return renewed
        """;

    /// <summary>
    /// KEYS: state, chunks. ARGV: proposed status, TTL, error, epoch, usage ('prompt:completion:estimated', '' none).
    /// Decides the final status once: a cancel request that came first wins over the model's own end. Records when (and
    /// why) it ended and the usage its instance counted, so a sweep can still save it as it was if its instance never
    /// manages to (<see cref="ClaimOrphan"/>). Returns {status, owner}; {'fenced', owner} when the
    /// caller's epoch is stale (another instance carries the answer on: the caller ends nothing).
    /// </summary>
    public const string Finish = RedisClock.Now + """
        local owner = redis.call('HGET', KEYS[1], 'owner') or ''
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if epoch and epoch ~= ARGV[4] then
            return {'fenced', owner} -- before the status: a fenced owner does not even repeat the successor's end
        end
        local current = redis.call('HGET', KEYS[1], 'status')
        if current and current ~= 'streaming' then
            return {current, owner}
        end
        local final = ARGV[1]
        if redis.call('HGET', KEYS[1], 'cancel') == '1' then
            final = 'cancelled'
        end
        redis.call('HSET', KEYS[1], 'status', final, 'ended', now)
        redis.call('HDEL', KEYS[1], 'lease')
        if final == ARGV[1] and ARGV[3] ~= '' then
            redis.call('HSET', KEYS[1], 'error', ARGV[3])
        end
        if ARGV[5] ~= '' then
            redis.call('HSET', KEYS[1], 'usage', ARGV[5])
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        if redis.call('EXISTS', KEYS[2]) == 1 then
            redis.call('PEXPIRE', KEYS[2], ARGV[2])
        end
        return {final, owner}
        """;

    /// <summary>KEYS: state, chunks. ARGV: TTL. Keeps an ended answer's state and buffer while its save is still being retried.</summary>
    public const string Keep = """
        for i = 1, #KEYS do
            if redis.call('EXISTS', KEYS[i]) == 1 then
                redis.call('PEXPIRE', KEYS[i], ARGV[1])
            end
        end
        return 1
        """;

    /// <summary>
    /// Ends an answer whose owner is gone, once. KEYS: state, lost marker. ARGV: TTL (of the state it ends, until its
    /// save: longer than the unsaved grace), mode, unsaved grace, lost grace, the
    /// answer's instance if its heartbeat is alive (else empty). Mode 'expired': its lease index entry ran
    /// out. Mode 'lost': Postgres says streaming and it has no current lease. Either way it is claimed only when its
    /// lease in its state is not current and no live instance owns it: its instance's heartbeat is gone, or its lease
    /// ran out more than a lease (ARGV[8]) ago though its instance is alive (that instance renews its heartbeat and its
    /// answers' leases in one tick, so it lost track of this one: a takeover it claimed but could not queue, say), or its
    /// instance is the caller (ARGV[7]), which asks only for answers it does not run (<see cref="OwnedAnswers"/>), so it
    /// knows at once that it lost track of this one, or (its state is gone too: Redis lost its data) no instance
    /// re-created that state within the lost grace.
    /// ARGV[6] 'continue' (the claimer's Chat:Failover = Continue, with ARGV[7] the claiming instance; ARGV[8] is the
    /// lease in ms; ARGV[9] the lost marker's TTL: longer than the lost grace plus the gap between the sweeps that
    /// ask Postgres): an answer whose state is still there, started under Continue too (its 'failover' field), is taken over instead of ended — its epoch goes up by one, its instance and
    /// lease become the caller's — and {'continue', epoch, owner, user message, model} is returned.
    /// Returns {'interrupted', error, owner, model, 'ended', epoch} when this caller claimed it to end it; in 'lost' mode, {status, error,
    /// owner, model, 'decided', usage} for an answer that ended more than the unsaved grace ago but was never saved (its instance died or gave up between
    /// deciding and saving, after counting its tokens); 1 when it ended normally (its index entry is stale); 0 otherwise.
    /// </summary>
    public const string ClaimOrphan = RedisClock.Now + """
        local status = redis.call('HGET', KEYS[1], 'status')
        local lease = tonumber(redis.call('HGET', KEYS[1], 'lease') or '0')
        if status == 'streaming' and lease > now then
            return 0 -- renewed: its instance is alive
        end
        if status and status ~= 'streaming' then
            local ended = tonumber(redis.call('HGET', KEYS[1], 'ended') or '0')
            if ARGV[2] == 'lost' and ended < now - tonumber(ARGV[3]) then
                return {status, redis.call('HGET', KEYS[1], 'error') or '', redis.call('HGET', KEYS[1], 'owner') or '',
                    redis.call('HGET', KEYS[1], 'model') or '', 'decided', redis.call('HGET', KEYS[1], 'usage') or ''}
            end
            return 1
        end
        local instance = redis.call('HGET', KEYS[1], 'instance')
        if instance and instance == ARGV[5] and instance ~= ARGV[7] and lease > now - tonumber(ARGV[8]) then
            return 0 -- another instance, alive: it renews it (a renewal may be late by less than a lease)
        end
        if not status and ARGV[2] == 'lost' then
            local first = redis.call('GET', KEYS[2])
            if not first then
                redis.call('SET', KEYS[2], now, 'PX', ARGV[9])
                return 0
            end
            if tonumber(first) > now - tonumber(ARGV[4]) then return 0 end
        end
        redis.call('DEL', KEYS[2])
        if status and ARGV[6] == 'continue' and redis.call('HGET', KEYS[1], 'failover') ~= 'interrupt' then
            if not redis.call('HGET', KEYS[1], 'epoch') then
                redis.call('HSET', KEYS[1], 'epoch', 1) -- registered before epochs existed: its owner writes as epoch 1
            end
            local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
            redis.call('HSET', KEYS[1], 'instance', ARGV[7], 'lease', now + tonumber(ARGV[8]))
            return {'continue', epoch, redis.call('HGET', KEYS[1], 'owner') or '', redis.call('HGET', KEYS[1], 'userMessage') or '',
                redis.call('HGET', KEYS[1], 'model') or ''}
        end
        redis.call('HSET', KEYS[1], 'status', 'interrupted', 'ended', now)
        redis.call('HDEL', KEYS[1], 'lease')
        redis.call('PEXPIRE', KEYS[1], ARGV[1])
        return {'interrupted', redis.call('HGET', KEYS[1], 'error') or '', redis.call('HGET', KEYS[1], 'owner') or '',
            redis.call('HGET', KEYS[1], 'model') or '', 'ended', tonumber(redis.call('HGET', KEYS[1], 'epoch') or '1')}
        """;

    /// <summary>KEYS: state. Flags a streaming answer for cancellation (1), or says it has ended (0).</summary>
    public const string RequestCancel = """
        if redis.call('HGET', KEYS[1], 'status') == 'streaming' then
            redis.call('HSET', KEYS[1], 'cancel', '1')
            return 1
        end
        return 0
        """;

    /// <summary>
    /// KEYS: state, chunks. Forgets a deleted conversation's answer. One still streaming ends cancelled here
    /// (its generator stops at its next chunk or cancel check) and its state stays, marked deleted, until its TTL, so it
    /// is not revived; every other state and every replay buffer goes at once. Returns {1 if it was running, owner}.
    /// </summary>
    public const string Forget = RedisClock.Now + """
        local owner = redis.call('HGET', KEYS[1], 'owner') or ''
        if redis.call('HGET', KEYS[1], 'status') == 'streaming' then
            redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancel', '1', 'deleted', '1', 'ended', now)
            redis.call('HDEL', KEYS[1], 'lease')
            redis.call('DEL', KEYS[2])
            return {1, owner}
        end
        redis.call('DEL', KEYS[1], KEYS[2])
        return {0, owner}
        """;

    /// <summary>KEYS: a lease index shard. ARGV: most to return. The members whose lease ran out by Redis's now.</summary>
    public const string Expired = RedisClock.Now + """
        return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
        """;
}
