using ChatStreaming.Contracts;
using ChatStreaming.Worker.Redis;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// Sends a conversation's events to every connection in it, on every instance (<see cref="ConversationBroadcaster"/>).
/// Each call returns once the event is in Redis and queued for this instance's connections (never waiting for their
/// sockets: <see cref="Outboxes"/>); a throw means neither is certain and the call may be repeated (clients drop what
/// they have).
/// </summary>
internal interface IChatBroadcaster
{
    Task MessageAddedAsync(Message message);

    Task GenerationStartedAsync(GenerationStarted started);

    /// <summary>
    /// Writes the chunk to its answer's replay buffer, then delivers it (the write and the publish to other instances are
    /// one Redis call). Nothing goes out when the buffer refused it: <see cref="ChunkWrite.Ended"/> (the answer has ended
    /// elsewhere) or <see cref="ChunkWrite.Gap"/> (the buffer lacks the chunks before it). A model continuation is kept
    /// with the chunk in the buffer (never sent to clients): where a successor resumes the model after it.
    /// </summary>
    Task<ChunkWrite> ChunkAsync(AnswerKeys keys, Chunk chunk, byte[]? continuation = null);

    Task GenerationFinishedAsync(GenerationFinished finished);

    Task GenerationResumedAsync(GenerationResumed resumed);
}
