using System.Text.Json.Serialization;

namespace ChatStreaming.Contracts;

/// <summary>
/// One piece of an assistant answer. <see cref="Sequence"/> starts at 1 and rises by 1 per chunk of a message, whatever
/// its kind; <see cref="EmittedAt"/> is Unix epoch milliseconds when the worker took the (first) delta from the model.
/// <see cref="Kind"/> is <c>text</c> (the default: <see cref="Delta"/> is answer text) or another of
/// <see cref="ChunkKinds"/>: then <see cref="Delta"/> is empty and <see cref="Part"/> carries the reasoning text or the
/// tool call / result JSON. A client that ignores <see cref="Kind"/> and joins the deltas gets exactly the answer's text.
/// </summary>
public sealed record Chunk(
    Guid ConversationId,
    Guid MessageId,
    long Sequence,
    string Delta,
    double EmittedAt,
    string Kind = ChunkKinds.Text,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Part = null);
