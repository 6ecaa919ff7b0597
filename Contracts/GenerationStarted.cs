namespace ChatStreaming.Contracts;

public sealed record GenerationStarted(Guid ConversationId, Guid MessageId, Guid UserMessageId);
