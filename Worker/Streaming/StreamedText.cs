using ChatStreaming.Contracts;

namespace ChatStreaming.Worker.Streaming;

/// <summary>
/// An answer as far as the replay buffer holds it, up to and including <see cref="LastSequence"/>: its text and all its
/// parts in order (consecutive text or reasoning joined), and the model continuation kept with its last chunk (null when
/// the model gives none): where a resumable model's stream goes on.
/// </summary>
internal sealed record StreamedText(string Content, long LastSequence, IReadOnlyList<MessagePart> Parts, byte[]? ModelContinuation = null);
