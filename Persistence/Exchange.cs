using ChatStreaming.Contracts;

namespace ChatStreaming.Persistence;

/// <summary>
/// The outcome of saving a user message with its (still empty) answer.
/// <see cref="IsNew"/> is false when the client message id had been seen: the ids are the first call's, nothing new was saved.
/// </summary>
public sealed record Exchange(Message UserMessage, Message AssistantMessage, bool IsNew);
