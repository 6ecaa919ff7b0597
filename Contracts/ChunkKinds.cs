namespace ChatStreaming.Contracts;

/// <summary>
/// What a <see cref="Chunk"/> or a <see cref="MessagePart"/> carries. Only <see cref="Text"/> is the answer's text
/// (<c>delta</c>, concatenated into <c>content</c>); the others carry their payload in <c>part</c> / <c>text</c>.
/// </summary>
public static class ChunkKinds
{
    /// <summary>The answer's text (the default).</summary>
    public const string Text = "text";

    /// <summary>The model's reasoning, as text, when its provider streams it.</summary>
    public const string Reasoning = "reasoning";

    /// <summary>A tool the model called: JSON <c>{ "callId", "name", "arguments" }</c>.</summary>
    public const string ToolCall = "toolCall";

    /// <summary>What the tool returned: JSON <c>{ "callId", "result" }</c> (the call with the same callId names the tool).</summary>
    public const string ToolResult = "toolResult";

    /// <summary>Text and reasoning stream in pieces that join; a tool call or result is always one whole part.</summary>
    public static bool Joins(string kind) => kind is Text or Reasoning;
}
