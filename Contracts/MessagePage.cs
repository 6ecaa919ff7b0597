namespace ChatStreaming.Contracts;

/// <summary>
/// A page of a conversation's messages, oldest first: the newest ones before the position asked for.
/// <see cref="HasMoreBefore"/>: older ones exist (ask again with the first message's position).
/// </summary>
public sealed record MessagePage(IReadOnlyList<Message> Messages, bool HasMoreBefore);
