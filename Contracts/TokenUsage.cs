namespace ChatStreaming.Contracts;

/// <summary>Token counts the model reported for one answer.</summary>
public sealed record TokenUsage(long PromptTokens, long CompletionTokens);
