namespace ChatStreaming.Worker;

/// <summary>One answer to generate: the user message it answers and the placeholder it fills.</summary>
public sealed record GenerationJob(Guid ConversationId, Guid UserMessageId, Guid AssistantMessageId, string OwnerId, string Prompt);
