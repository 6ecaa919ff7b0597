namespace ChatStreaming.Contracts;

/// <summary>
/// A message of a conversation. For an assistant message still streaming, <see cref="Content"/> is the text so far
/// and <see cref="LastSequence"/> the sequence of the last chunk it includes. A finished answer may carry the model's
/// <see cref="FinishReason"/> (stop, length, content_filter…) and <see cref="Usage"/>. <see cref="Position"/> orders the
/// messages of a conversation (larger is newer): page backwards with <c>GetMessages(conversationId, beforePosition)</c>
/// from the first message you have. Messages read from the server carry it; live <c>MessageAdded</c> events may carry 0.
/// <see cref="ParentId"/> is the message it follows (null for the first); <see cref="SiblingIds"/> are the messages with
/// the same parent, oldest first, itself included (more than one after a regenerate or an edit).
/// An answer has <see cref="Model"/>, the catalog model that answered (once it ended), and <see cref="Parts"/>, everything
/// it streamed in order (text, reasoning, tool calls and results); <see cref="Content"/> is its text parts joined.
/// </summary>
public sealed record Message(
    Guid Id,
    Guid ConversationId,
    MessageRole Role,
    string Content,
    MessageStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    long? LastSequence,
    string? Error = null,
    string? FinishReason = null,
    TokenUsage? Usage = null,
    long Position = 0,
    Guid? ParentId = null,
    IReadOnlyList<Guid>? SiblingIds = null,
    string? Model = null,
    IReadOnlyList<MessagePart>? Parts = null);
