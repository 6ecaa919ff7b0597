using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Generation;

/// <summary>
/// What a relay wrote: <see cref="Content"/> is every text chunk's delta joined, <see cref="Parts"/> every chunk in order
/// (consecutive text or reasoning joined into one part), the last chunk has <see cref="LastSequence"/>.
/// </summary>
public sealed record RelayResult(string Content, IReadOnlyList<MessagePart> Parts, long LastSequence, int Deltas, Exception? SinkError);
