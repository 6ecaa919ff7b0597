using ChatStreaming.Contracts;

namespace ChatStreaming.Client.Core;

public enum ConversationChangeKind
{
    Created,
    Updated,
    Deleted,
}

/// <summary>The user's conversation list changed (any tab, any instance). <see cref="Conversation"/> is null for a delete.</summary>
public sealed record ConversationChange(ConversationChangeKind Kind, Guid ConversationId, Conversation? Conversation);
