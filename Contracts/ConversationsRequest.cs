namespace ChatStreaming.Contracts;

/// <summary>
/// A page of the caller's conversations, newest activity first. <see cref="Before"/> is the <c>nextCursor</c> of the
/// previous page (none: the newest); <see cref="Limit"/> defaults to, and is at most, 200.
/// </summary>
public sealed record ConversationsRequest(string? Before = null, int? Limit = null);
