using ChatStreaming.Worker.Redis;

namespace ChatStreaming.Worker.Streaming;

/// <summary>What <see cref="ChunkWriter"/> did with a chunk.</summary>
internal enum ChunkWrite
{
    /// <summary>Written to the replay buffer and published to the other instances, in one step.</summary>
    Written,

    /// <summary>Already in the replay buffer (a repeat after a timeout, which wrote and published it): nothing done.</summary>
    Repeated,

    /// <summary>
    /// Refused: the answer's status is final (another instance ended it), or another instance took it over (the writer's
    /// epoch is stale). Nothing written or published; the writer stops.
    /// </summary>
    Ended,

    /// <summary>
    /// Refused: the replay buffer lacks the chunk before this one (Redis lost its tail: a failover to a replica that had
    /// not received the last writes, a restart). Nothing written or published; the owner writes back what is missing.
    /// </summary>
    Gap,
}
