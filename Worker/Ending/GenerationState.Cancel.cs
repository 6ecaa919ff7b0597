using ChatStreaming.Worker.Redis;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Ending;

/// <summary>Cancelling an answer, and forgetting the answers of a deleted conversation.</summary>
internal sealed partial class GenerationState
{
    private const string RequestCancelScript = """
        if redis.call('HGET', KEYS[1], 'status') == 'streaming' then
            redis.call('HSET', KEYS[1], 'cancel', '1')
            return 1
        end
        return 0
        """;

    // Forgets a deleted conversation's answer. KEYS: state, chunks, leases. ARGV: lease member, now. One still streaming ends
    // cancelled here (its generator stops at its next chunk or cancel check) and its state stays, marked deleted, until
    // its TTL, so it is not revived; every other state and every replay buffer goes at once.
    private const string ForgetScript = """
        if redis.call('HGET', KEYS[1], 'status') == 'streaming' then
            redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancel', '1', 'deleted', '1', 'ended', ARGV[2])
            redis.call('ZREM', KEYS[3], ARGV[1])
            redis.call('DEL', KEYS[2])
            return 1
        end
        redis.call('DEL', KEYS[1], KEYS[2])
        return 0
        """;

    /// <summary>Flags a streaming answer for cancellation. False when it has already ended (or is unknown).</summary>
    public async Task<bool> RequestCancelAsync(Guid conversationId, Guid messageId)
    {
        var requested = (int)await Db.ScriptEvaluateAsync(RequestCancelScript, [RedisKeys.Generation(conversationId, messageId)]) == 1;
        if (requested)
        {
            await cancellations.PublishAsync(messageId);
        }

        return requested;
    }

    public async Task<bool> IsCancelRequestedAsync(Guid conversationId, Guid messageId) =>
        await Db.HashGetAsync(RedisKeys.Generation(conversationId, messageId), "cancel") == "1";

    /// <summary>Which of <paramref name="answers"/> have a cancel requested: one pipelined batch, one round trip.</summary>
    public async Task<IReadOnlyList<Guid>> CancelRequestedAmongAsync(IReadOnlyCollection<OwnedAnswer> answers)
    {
        var batch = Db.CreateBatch();
        var flags = answers.Select(a => (Id: a.MessageId, Flag: batch.HashGetAsync(RedisKeys.Generation(a.ConversationId, a.MessageId), "cancel"))).ToArray();
        batch.Execute();
        await Task.WhenAll(flags.Select(f => f.Flag));
        return [.. flags.Where(f => f.Flag.Result == "1").Select(f => f.Id)];
    }

    /// <summary>
    /// Forgets the answers of a deleted conversation (one pipelined batch): running ones are cancelled and marked deleted,
    /// replay buffers and ended states removed. Afterwards <see cref="GetGenerationAsync"/> knows none of them.
    /// </summary>
    public async Task ForgetAsync(Guid conversationId, IReadOnlyCollection<Guid> messageIds)
    {
        if (messageIds.Count == 0)
        {
            return;
        }

        var batch = Db.CreateBatch();
        var now = NowMilliseconds();
        var forgotten = messageIds.Select(id => (Id: id, Running: batch.ScriptEvaluateAsync(
            ForgetScript, [RedisKeys.Generation(conversationId, id), RedisKeys.Chunks(conversationId, id), RedisKeys.Leases], [RedisKeys.LeaseMember(conversationId, id), now]))).ToArray();
        var pointers = batch.KeyDeleteAsync([.. messageIds.Select(RedisKeys.AnswerConversation)]);
        batch.Execute();
        await pointers;
        await Task.WhenAll(forgotten.Select(f => f.Running));
        await Task.WhenAll(forgotten.Where(f => (int)f.Running.Result == 1).Select(f => cancellations.PublishAsync(f.Id)));
    }
}
