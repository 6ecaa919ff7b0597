using ChatStreaming.Worker.Redis;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Ending;

/// <summary>
/// Where an answer's lease is listed besides its state: the lease index the sweepers walk
/// (<see cref="RedisKeys.LeaseIndex"/>, <see cref="RedisKeys.LeaseShards"/> shards) and the user's running answers
/// (<see cref="RedisKeys.UserActive"/>, scored by the same expiry, so an answer whose instance died stops counting
/// within a lease). Both are other slots than the answer's state: scripts of their own (RedisClock.ListUntil), pipelined with the script that
/// changed the state. The state's <c>lease</c> field decides; a listing that a failure left behind is a hint at most
/// (a sweep that finds it ended drops it; a user's entry lapses with its score, and every listing drops the user's
/// lapsed entries, so the set does not grow when nothing else trims it: Chat:MaxConcurrentGenerationsPerUser = 0).
/// </summary>
internal sealed partial class GenerationState
{
    /// <summary>
    /// Queues the answer's index entry and its place among the user's running answers, both until Redis's now + a lease.
    /// A renewal (<paramref name="extendOnly"/>) only extends the user's entry if it is still there: the answer may have
    /// ended since its state was renewed (another round trip), and its end's unlisting must not be undone — an ended
    /// answer listed again would count as running for a whole lease, refusing its user's next send. The index entry is
    /// always written: one left by an end is only a hint a sweep drops, one lost (a failover of its shard) would leave the
    /// answer to the slower Postgres sweep if its instance died.
    /// </summary>
    private IEnumerable<Task> ListLease(IBatch batch, Guid conversationId, Guid messageId, string ownerId, bool extendOnly = false)
    {
        var member = RedisKeys.LeaseMember(conversationId, messageId);
        var mode = extendOnly ? "1" : "0";
        return
        [
            batch.ScriptEvaluateAsync(RedisClock.ListUntil, [RedisKeys.LeaseIndex(conversationId)], [LeaseMilliseconds, RunningTtlMilliseconds, "0", "0", member]),
            batch.ScriptEvaluateAsync(RedisClock.ListUntil, [RedisKeys.UserActive(ownerId)], [LeaseMilliseconds, RunningTtlMilliseconds, "1", mode, member]),
        ];
    }

    /// <summary>
    /// The answer ended: its index entry and its place among <paramref name="ownerId"/>'s running answers go (the owner,
    /// when unknown, lets its entry lapse); with <paramref name="pointerTtlMilliseconds"/> its conversation pointer gets
    /// the TTL its ended state got.
    /// </summary>
    private async Task UnlistLeaseAsync(Guid conversationId, Guid messageId, string? ownerId, long? pointerTtlMilliseconds = null)
    {
        var member = RedisKeys.LeaseMember(conversationId, messageId);
        var batch = Db.CreateBatch();
        var removed = new List<Task> { batch.SortedSetRemoveAsync(RedisKeys.LeaseIndex(conversationId), member) };
        if (!string.IsNullOrEmpty(ownerId))
        {
            removed.Add(batch.SortedSetRemoveAsync(RedisKeys.UserActive(ownerId), member));
        }

        if (pointerTtlMilliseconds is { } ttl)
        {
            removed.Add(SetPointerAsync(batch, conversationId, messageId, ttl));
        }

        batch.Execute();
        await Task.WhenAll(removed);
    }

    /// <summary>Answers whose lease ran out in the index (at most 100 per shard): their instance stopped renewing them, or they ended and the entry stayed.</summary>
    public async Task<IReadOnlyList<(Guid ConversationId, Guid MessageId)>> ExpiredLeasesAsync()
    {
        var batch = Db.CreateBatch();
        var shards = Enumerable.Range(0, RedisKeys.LeaseShards)
            .Select(shard => batch.ScriptEvaluateAsync(GenerationScripts.Expired, [RedisKeys.LeaseIndexShard(shard)], [100])).ToArray();
        batch.Execute();
        await Task.WhenAll(shards);
        return [.. shards.SelectMany(s => (RedisResult[])s.Result!).Select(member => RedisKeys.ParseLeaseMember((string)member!))];
    }
}
