using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// What a relay wrote: <see cref="Content"/> is every text chunk's delta joined, <see cref="Parts"/> every chunk in order
/// (consecutive text or reasoning joined into one part), the last chunk has <see cref="LastSequence"/>.
/// </summary>
internal sealed record RelayResult(string Content, IReadOnlyList<MessagePart> Parts, long LastSequence, int Deltas, Exception? SinkError)
{
    /// <summary>Nothing relayed (the answer ended before its first chunk).</summary>
    public static readonly RelayResult Empty = new("", [], 0, 0, null);

    /// <summary>What another relay streamed (a dead instance's, read back from the replay buffer): no deltas of this one.</summary>
    public static RelayResult Streamed(string content, IReadOnlyList<MessagePart> parts, long lastSequence) => new(content, parts, lastSequence, 0, null);

    /// <summary>
    /// What an answer holds before its relay writes anything: a taken-over answer's text streamed by its dead instance
    /// (<paramref name="resumedFrom"/>), else nothing. An answer that ends before its relay starts ends with this.
    /// </summary>
    public static RelayResult Before(RelayStart? resumedFrom) =>
        resumedFrom is { } from ? Streamed(from.Content, from.Parts, from.LastSequence) : Empty;
}
