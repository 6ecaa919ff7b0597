using System.Text.Json;
using ChatStreaming.Contracts;

namespace ChatStreaming.Persistence;

/// <summary>
/// An answer's parts in the <c>parts</c> column: a JSON array of <c>{ kind, text }</c>, or null when the answer is its
/// text alone (nearly all answers), which reads back as one text part (none when the text is empty).
/// </summary>
public static class StoredParts
{
    public static string? Encode(IReadOnlyList<MessagePart>? parts, string content) =>
        IsTextAlone(parts, content) ? null : JsonSerializer.Serialize(parts, Json);

    public static IReadOnlyList<MessagePart> Decode(string? stored, string content) =>
        stored is null ? TextAlone(content) : JsonSerializer.Deserialize<List<MessagePart>>(stored, Json) ?? [];

    /// <summary>The parts as a reader of the saved answer gets them (an answer of text alone is one text part).</summary>
    public static IReadOnlyList<MessagePart> Normalize(IReadOnlyList<MessagePart>? parts, string content) =>
        IsTextAlone(parts, content) ? TextAlone(content) : parts!;

    // No parts known, or nothing but the content's text: nothing to store beside the content.
    private static bool IsTextAlone(IReadOnlyList<MessagePart>? parts, string content) =>
        parts is null || parts.All(p => p.Kind == ChunkKinds.Text) && string.Concat(parts.Select(p => p.Text)) == content;

    private static IReadOnlyList<MessagePart> TextAlone(string content) => content.Length == 0 ? [] : [new MessagePart(ChunkKinds.Text, content)];

    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;
}
