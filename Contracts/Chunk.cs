namespace ChatStreaming.Contracts;

/// <summary>
/// One piece of an assistant answer. <see cref="Sequence"/> starts at 1 and rises by 1 per chunk of a message;
/// <see cref="EmittedAt"/> is Unix epoch milliseconds when the worker took the (first) delta from the model.
/// </summary>
public sealed record Chunk(Guid ConversationId, Guid MessageId, long Sequence, string Delta, double EmittedAt);
