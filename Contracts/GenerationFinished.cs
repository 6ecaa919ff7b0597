namespace ChatStreaming.Contracts;

/// <summary>
/// The end of an answer, sent after it was saved. <see cref="Content"/> is the whole saved answer; <see cref="FinishReason"/>
/// is the model's (stop, length, content_filter…) when it gave one. <see cref="Model"/> is the catalog model that
/// answered; <see cref="Parts"/> everything the answer streamed, in order (its text parts joined are <see cref="Content"/>).
/// </summary>
public sealed record GenerationFinished(
    Guid ConversationId,
    Guid MessageId,
    MessageStatus Status,
    long LastSequence,
    string Content,
    string? Error = null,
    string? FinishReason = null,
    TokenUsage? Usage = null,
    string? Model = null,
    IReadOnlyList<MessagePart>? Parts = null)
{
    /// <summary>Value equality, <see cref="Parts"/> included (compared part by part).</summary>
    public bool Equals(GenerationFinished? other) =>
        other is not null
        && (ConversationId, MessageId, Status, LastSequence, Content, Error, FinishReason, Usage, Model)
            == (other.ConversationId, other.MessageId, other.Status, other.LastSequence, other.Content, other.Error, other.FinishReason, other.Usage, other.Model)
        && (Parts ?? []).SequenceEqual(other.Parts ?? []);

    public override int GetHashCode() => HashCode.Combine(MessageId, Status, LastSequence, Content);
}
