using System.Text.Json;
using ChatStreaming.Contracts;
using Microsoft.Extensions.AI;

namespace ChatStreaming.Worker.Model;

/// <summary>
/// What of a streamed <see cref="AIContent"/> becomes part of the answer: text, reasoning text, and the tool calls and
/// results the function invocation streams, as JSON (<c>{ callId, name, arguments }</c>, <c>{ callId, result }</c>).
/// Usage is read by the caller; anything else (a provider's own content types) is not streamed. And back: the tool
/// rounds an answer's parts hold, as the model is given them again after a takeover (<see cref="ToolRounds"/>).
/// </summary>
internal static class ModelParts
{
    public static (string Kind, string Text)? ToDelta(AIContent content) => content switch
    {
        TextContent { Text.Length: > 0 } text => (ChunkKinds.Text, text.Text),
        TextReasoningContent { Text.Length: > 0 } reasoning => (ChunkKinds.Reasoning, reasoning.Text),
        FunctionCallContent call => (ChunkKinds.ToolCall, JsonSerializer.Serialize(
            new ToolCallPart(call.CallId, call.Name, call.Arguments), Json)),
        FunctionResultContent result => (ChunkKinds.ToolResult, JsonSerializer.Serialize(
            new ToolResultPart(result.CallId, result.Exception is null ? result.Result : "the tool failed"), Json)),
        _ => null,
    };

    /// <summary>Each tool call among <paramref name="parts"/> whose result is there too, with that result, in order.</summary>
    public static IEnumerable<(FunctionCallContent Call, FunctionResultContent Result)> ToolRounds(IReadOnlyList<MessagePart> parts)
    {
        var results = parts.Where(p => p.Kind == ChunkKinds.ToolResult)
            .Select(p => JsonSerializer.Deserialize<ToolResultPart>(p.Text, Json))
            .Where(r => r?.CallId is not null)
            .ToDictionary(r => r!.CallId, r => r!.Result, StringComparer.Ordinal);
        foreach (var call in parts.Where(p => p.Kind == ChunkKinds.ToolCall).Select(p => JsonSerializer.Deserialize<ToolCallPart>(p.Text, Json)))
        {
            if (call is { CallId: { } id, Name: { } name } && results.TryGetValue(id, out var result))
            {
                yield return (new FunctionCallContent(id, name, call.Arguments), new FunctionResultContent(id, result));
            }
        }
    }

    /// <summary>The parts of the model rounds before the last one: up to the last tool result (none without one).</summary>
    public static IReadOnlyList<MessagePart> EarlierRounds(IReadOnlyList<MessagePart> parts)
    {
        var end = 0;
        for (var i = 0; i < parts.Count; i++)
        {
            end = parts[i].Kind == ChunkKinds.ToolResult ? i + 1 : end;
        }

        return [.. parts.Take(end)];
    }

    /// <summary>
    /// Whether the answer so far ends on a tool call: the model round that made it is over at the provider (a call is its
    /// round's last output), so its stream, resumed, brings nothing more. (One that ends on the call's result has no
    /// continuation to resume: a result is the function invocation's, not the provider's.)
    /// </summary>
    public static bool EndsOnToolCall(IReadOnlyList<MessagePart> parts) => parts.Count > 0 && parts[^1].Kind == ChunkKinds.ToolCall;

    private sealed record ToolCallPart(string CallId, string Name, IDictionary<string, object?>? Arguments);

    private sealed record ToolResultPart(string CallId, object? Result);

    private static readonly JsonSerializerOptions Json = new(AIJsonUtilities.DefaultOptions)
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = false,
    };
}
