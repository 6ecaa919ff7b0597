using ChatStreaming.Contracts;

namespace ChatStreaming.Worker;

/// <summary>What Redis knows of an answer while its replay buffer lives.</summary>
public sealed record GenerationInfo(Guid MessageId, Guid ConversationId, Guid UserMessageId, string OwnerId, MessageStatus Status);
