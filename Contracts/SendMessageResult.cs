namespace ChatStreaming.Contracts;

public sealed record SendMessageResult(Guid UserMessageId, Guid AssistantMessageId);
