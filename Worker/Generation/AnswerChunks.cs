using ChatStreaming.Contracts;
using ChatStreaming.Worker.Redis;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// One running answer's chunks as its owner wrote them, kept in memory until the answer ends, so what Redis loses can be
/// written back: Redis replicates asynchronously, and a master that fails over takes the last chunks it acknowledged
/// with it. A gap below a new chunk is found by the append itself; the tail after the last chunk is checked at the
/// answer's end if any Redis connection failure (<see cref="RedisConnectionFailures"/>) or failed write of this answer
/// happened since the last check (<see cref="ChunkSink"/>). Used by the answer's relay only, one chunk at a time.
/// </summary>
internal sealed class AnswerChunks(AnswerKeys keys, long failuresSeen)
{
    private readonly List<(Chunk Chunk, byte[]? Continuation)> written = [];

    public AnswerKeys Keys { get; } = keys;

    /// <summary>The connection failures counted when the replay buffer was last known to hold every written chunk.</summary>
    public long FailuresSeen { get; private set; } = failuresSeen;

    /// <summary>A write of this answer failed since the buffer was last checked: what Redis holds is not known.</summary>
    public bool WriteFailed { get; set; }

    /// <summary>The chunks Redis acknowledged, in sequence order, each with its model continuation.</summary>
    public IReadOnlyList<(Chunk Chunk, byte[]? Continuation)> Written => written;

    public void Add(Chunk chunk, byte[]? continuation)
    {
        if (written.Count == 0 || written[^1].Chunk.Sequence < chunk.Sequence)
        {
            written.Add((chunk, continuation));
        }
    }

    /// <summary>Whether the buffer's tail must be checked (Redis failed since it was last known whole).</summary>
    public bool NeedsCheck(long failures) => written.Count > 0 && (WriteFailed || failures != FailuresSeen);

    /// <summary>The buffer was checked (and completed) as of <paramref name="failures"/>.</summary>
    public void Checked(long failures)
    {
        FailuresSeen = failures;
        WriteFailed = false;
    }
}
