namespace ChatStreaming.Contracts;

/// <summary>
/// An answer whose instance stopped is carried on by another one (<paramref name="Instance"/>, an opaque id) after
/// <paramref name="FromSequence"/>, the last chunk its replay buffer held: its next chunk is
/// <c>FromSequence + 1</c>, under the same message id. Clients keep one answer and may say, discreetly, that it
/// resumed after a server restart.
/// </summary>
public sealed record GenerationResumed(Guid ConversationId, Guid MessageId, long FromSequence, string Instance);
