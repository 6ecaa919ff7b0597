using System.Text.Json;

namespace ChatStreaming.Web.Pages;

/// <summary>A toolCall or toolResult part's JSON, read for display: its call id, tool name, arguments and result as text.</summary>
internal sealed record ToolPart(string? CallId, string Name, string Arguments, string? Result)
{
    // Shown as text (Razor encodes it), so the relaxed encoder only keeps non-ASCII readable.
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static ToolPart Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var value) ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText() : null;
            var arguments = root.TryGetProperty("arguments", out var args) && args.ValueKind == JsonValueKind.Object
                ? string.Join(", ", args.EnumerateObject().Select(a => a.Value.ValueKind == JsonValueKind.String ? a.Value.GetString() : a.Value.GetRawText()))
                : "";
            var result = root.TryGetProperty("result", out var r)
                ? JsonSerializer.Serialize(r, Indented)
                : null;
            return new ToolPart(Text("callId"), Text("name") ?? "tool", arguments, result);
        }
        catch (JsonException)
        {
            return new ToolPart(null, "tool", "", json);
        }
    }
}
