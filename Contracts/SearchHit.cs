namespace ChatStreaming.Contracts;

/// <summary>
/// One message that matched a search, best match first. <see cref="Snippet"/> is plain text around the match with the
/// matched words between <c>**</c> and <c>**</c> (render it as text, never as HTML).
/// </summary>
public sealed record SearchHit(Guid ConversationId, string ConversationTitle, Guid MessageId, MessageRole Role, string Snippet, DateTimeOffset CreatedAt);
