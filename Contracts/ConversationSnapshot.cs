namespace ChatStreaming.Contracts;

/// <summary>What <see cref="IChatHub.JoinConversation"/> returns: the conversation and its messages, oldest first.</summary>
public sealed record ConversationSnapshot(Conversation Conversation, IReadOnlyList<Message> Messages);
