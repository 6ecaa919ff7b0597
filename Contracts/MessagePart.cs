namespace ChatStreaming.Contracts;

/// <summary>
/// One part of an answer, in the order the model produced them: <see cref="Kind"/> is one of <see cref="ChunkKinds"/>;
/// <see cref="Text"/> is the text (text, reasoning) or a JSON document (toolCall, toolResult).
/// </summary>
public sealed record MessagePart(string Kind, string Text);
