namespace ChatStreaming.Contracts;

/// <summary>Makes the newest path through <see cref="MessageId"/> the conversation's active branch.</summary>
public sealed record SelectBranchRequest(Guid ConversationId, Guid MessageId);
