namespace ChatStreaming.Contracts;

/// <summary>Sent to every connection of the owner when one of their conversations was deleted.</summary>
public sealed record ConversationDeleted(Guid ConversationId);
