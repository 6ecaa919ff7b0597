using ChatStreaming.Contracts;
using ChatStreaming.Persistence;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Streaming;

namespace ChatStreaming.Worker.Facade;

/// <summary>An answer's chunks from its replay buffer, for a client catching up after a gap or a reconnect.</summary>
public sealed class Replay
{
    private readonly ReplayStream stream;
    private readonly GenerationState state;
    private readonly ChatStore store;
    private readonly WorkerMetrics metrics;

    internal Replay(ReplayStream stream, GenerationState state, ChatStore store, WorkerMetrics metrics)
    {
        this.stream = stream;
        this.state = state;
        this.store = store;
        this.metrics = metrics;
    }

    /// <summary>
    /// The chunks after <paramref name="afterSequence"/> (at most Chat:MaxChunksPerRead). Another user's answer is
    /// refused as an unknown one; a gone buffer is told apart from "never yours" only to the owner.
    /// </summary>
    public async Task<Outcome<IReadOnlyList<Chunk>>> GetChunksAsync(string userId, Guid messageId, long afterSequence, CancellationToken cancellationToken)
    {
        if (afterSequence < 0)
        {
            return Refusal.Invalid("afterSequence", "afterSequence must be 0 or more");
        }

        if (await state.FindConversationAsync(messageId) is { } conversationId && await stream.GetChunksAsync(conversationId, messageId, afterSequence) is { } found)
        {
            if (found.Generation.OwnerId != userId)
            {
                return Refusal.NotFound(ChatErrors.MessageNotFound);
            }

            metrics.Replay(hit: true);
            return Outcome.Ok(found.Chunks);
        }

        if (!await store.OwnsMessageAsync(userId, messageId, cancellationToken))
        {
            return Refusal.NotFound(ChatErrors.MessageNotFound);
        }

        metrics.Replay(hit: false);
        return new Refusal(ChatErrors.ReplayUnavailable, RefusalKind.NotFound);
    }
}
