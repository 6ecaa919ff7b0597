using ChatStreaming.Persistence;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Streaming;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// Queues a taken-over answer (<see cref="IAnswerContinuation"/>): what its replay buffer holds becomes the start of the
/// answer, its question is read from Postgres, and the generator carries it on under the epoch this instance won, raised
/// in Postgres too (<see cref="ChatStore.TakeOverAsync"/>). An answer Postgres already holds final is not carried on (the
/// sweep then ends it in Redis and announces the saved end).
/// </summary>
internal sealed class AnswerContinuation(ReplayStream replay, ChatStore store, GenerationQueue queue, OwnedAnswers owned) : IAnswerContinuation
{
    public async Task<bool> TryContinueAsync(OrphanClaim claim, CancellationToken cancellationToken)
    {
        var taken = claim.Continuation ?? throw new ArgumentException("not a takeover", nameof(claim));
        if (!queue.IsAcceptingWork || queue.IsFull)
        {
            return false;
        }

        // Postgres fences the earlier owner out first (it may be cut off from Redis, so never learn it was taken over,
        // and save its own end). Not carried on when Postgres holds the answer final already: its caller was told it
        // failed (its registration's reply was lost though the state was written, say), and carrying it on would
        // generate, and charge, an answer nobody gets.
        if (!await store.TakeOverAsync(taken.MessageId, taken.Epoch, cancellationToken)
            || await store.GetMessageAsync(taken.UserMessageId, cancellationToken) is not { } question)
        {
            return false;
        }

        var streamed = await replay.GetStreamedTextAsync(taken.ConversationId, taken.MessageId);

        var job = new GenerationJob(taken.ConversationId, taken.UserMessageId, taken.MessageId, taken.OwnerId, question.Content)
        {
            Model = claim.Model,
            Resume = new ResumePoint(new RelayStart(streamed.LastSequence, streamed.Content, streamed.Parts), taken.Epoch, streamed.ModelContinuation),
        };
        owned.Add(job.Answer);
        if (queue.TryEnqueue(job))
        {
            return true;
        }

        owned.Release(taken.MessageId);
        return false;
    }
}
