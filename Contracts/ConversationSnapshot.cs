namespace ChatStreaming.Contracts;

/// <summary>
/// What <see cref="IChatHub.JoinConversation"/> returns: the conversation and its newest messages (at most
/// Chat:SnapshotMessages), oldest first. <see cref="HasMoreBefore"/>: older ones exist; page them with GetMessages.
/// </summary>
public sealed record ConversationSnapshot(Conversation Conversation, IReadOnlyList<Message> Messages, bool HasMoreBefore = false);
