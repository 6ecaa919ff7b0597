namespace ChatStreaming.Contracts;

/// <summary>
/// A new version of the user message <see cref="MessageId"/>: a sibling with the same parent, answered like a send; the
/// earlier branch is kept. <see cref="ClientMessageId"/> makes a retry return the same ids.
/// </summary>
public sealed record EditMessageRequest(Guid MessageId, string Content, string? ClientMessageId = null);
