using ChatStreaming.Worker.Redis;
using StackExchange.Redis;

namespace ChatStreaming.Worker.Ending;

/// <summary>Cancelling an answer, and forgetting the answers of a deleted conversation.</summary>
internal sealed partial class GenerationState
{
    /// <summary>Flags a streaming answer for cancellation. False when it has already ended (or is unknown).</summary>
    public async Task<bool> RequestCancelAsync(Guid conversationId, Guid messageId)
    {
        var requested = (int)await Db.ScriptEvaluateAsync(GenerationScripts.RequestCancel, [RedisKeys.Generation(conversationId, messageId)]) == 1;
        if (requested)
        {
            await cancellations.PublishAsync(messageId);
        }

        return requested;
    }

    /// <summary>
    /// Whether a job may start its answer (one read): not when another instance took the answer over meanwhile (its
    /// state's epoch is past <paramref name="epoch"/>: this instance was paused or cut off while the job waited in its
    /// queue, and the successor carries the answer on), nor when a cancel was requested first.
    /// </summary>
    public async Task<AnswerStart> StartingAsync(Guid conversationId, Guid messageId, long epoch)
    {
        var fields = await Db.HashGetAsync(RedisKeys.Generation(conversationId, messageId), ["epoch", "cancel"]);
        return fields[0].HasValue && (long)fields[0] != epoch ? AnswerStart.TakenOver
            : fields[1] == "1" ? AnswerStart.Cancelled
            : AnswerStart.Run;
    }

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
        var forgotten = messageIds.Select(id => (Id: id, Result: batch.ScriptEvaluateAsync(
            GenerationScripts.Forget, [RedisKeys.Generation(conversationId, id), RedisKeys.Chunks(conversationId, id)]))).ToArray();
        var pointers = messageIds.Select(id => batch.KeyDeleteAsync(RedisKeys.AnswerConversation(id))).ToArray(); // one slot each
        batch.Execute();
        await Task.WhenAll(pointers);
        await Task.WhenAll(forgotten.Select(f => f.Result));
        var results = forgotten.Select(f => (f.Id, Reply: (RedisResult[])f.Result.Result!)).ToArray();
        await Task.WhenAll(results.Select(r => UnlistLeaseAsync(conversationId, r.Id, (string)r.Reply[1]!)));
        await Task.WhenAll(results.Where(r => (int)r.Reply[0] == 1).Select(r => cancellations.PublishAsync(r.Id)));
    }
}
