namespace ChatStreaming.Contracts;

/// <summary>A page of conversations, newest first; <see cref="NextCursor"/> asks for the next (older) page, null at the end.</summary>
public sealed record ConversationPage(IReadOnlyList<Conversation> Conversations, string? NextCursor);
