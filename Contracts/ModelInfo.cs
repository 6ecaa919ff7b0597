namespace ChatStreaming.Contracts;

/// <summary>
/// A model of the catalog (Chat:Models): its name (what <c>model</c> fields take), its provider (Simulated, OpenAI,
/// AzureOpenAI), whether it answers when no model is named, and the tools it is offered. Never an endpoint or a key.
/// </summary>
public sealed record ModelInfo(string Name, string Provider, bool IsDefault, IReadOnlyList<string>? Tools = null);
