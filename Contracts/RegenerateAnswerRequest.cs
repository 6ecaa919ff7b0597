namespace ChatStreaming.Contracts;

/// <summary>
/// A new answer to the question that <see cref="MessageId"/> (an assistant message) answered; the old answer stays as its
/// sibling. <see cref="ClientMessageId"/> makes a retry return the same ids, as in <see cref="SendMessageRequest"/>.
/// </summary>
public sealed record RegenerateAnswerRequest(Guid MessageId, string? ClientMessageId = null);
