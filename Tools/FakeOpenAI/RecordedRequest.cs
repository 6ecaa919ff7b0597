using System.Text.Json.Nodes;

namespace ChatStreaming.FakeOpenAI;

/// <summary>A request the fake server received, and how it ended.</summary>
public sealed class RecordedRequest(string path, string? apiKey, string? authorization, JsonNode? body)
{
    public string Path { get; } = path;

    /// <summary>The query string, with its <c>?</c> (empty when there is none).</summary>
    public string Query { get; internal set; } = "";

    /// <summary>The Azure <c>api-key</c> header.</summary>
    public string? ApiKey { get; } = apiKey;

    /// <summary>The <c>Authorization</c> header (OpenAI: <c>Bearer &lt;key&gt;</c>).</summary>
    public string? Authorization { get; } = authorization;

    public JsonNode? Body { get; } = body;

    public DateTimeOffset ReceivedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>True when the client went away before the server finished answering.</summary>
    public bool Aborted { get; internal set; }

    public bool Ended { get; internal set; }

    /// <summary>The model (OpenAI) the request named; Azure names its deployment in the path instead.</summary>
    public string? Model => (string?)Body?["model"];

    /// <summary>The names of the tools (functions) the request offered.</summary>
    public IReadOnlyList<string> Tools =>
        [.. (Body?["tools"]?.AsArray() ?? []).Select(t => (string?)t?["function"]?["name"] ?? "")];

    /// <summary>The messages sent to the model, as (role, content) pairs.</summary>
    public IReadOnlyList<(string Role, string Content)> Messages =>
        [.. (Body?["messages"]?.AsArray() ?? []).Select(m => ((string?)m?["role"] ?? "", ContentOf(m?["content"])))];

    private static string ContentOf(JsonNode? content) => content switch
    {
        JsonValue value => (string?)value ?? "",
        JsonArray parts => string.Concat(parts.Select(p => (string?)p?["text"] ?? "")),
        _ => "",
    };
}
