using ChatStreaming.Contracts;

namespace ChatStreaming.Persistence;

/// <summary>The earlier messages a model is sent (newest first) and the conversation's model and system prompt, if set.</summary>
public sealed record ModelHistory(IReadOnlyList<(MessageRole Role, string Content)> Messages, string? Model, string? SystemPrompt);
