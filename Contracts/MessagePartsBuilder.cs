using System.Text;

namespace ChatStreaming.Contracts;

/// <summary>
/// Builds an answer's <see cref="MessagePart"/>s from its pieces in stream order, by the contract's one rule: a text or
/// reasoning piece joins the part just before it when that part is of its kind; a tool call or result is a part of
/// its own. The server's relay and replay buffer and the .NET client all build parts with it.
/// </summary>
public sealed class MessagePartsBuilder
{
    private readonly List<(string Kind, StringBuilder Text)> parts = [];
    private IReadOnlyList<MessagePart>? built;

    public int Count => parts.Count;

    /// <summary>Adds the next piece of <paramref name="kind"/> (one of <see cref="ChunkKinds"/>).</summary>
    public void Add(string kind, string text)
    {
        built = null;
        if (ChunkKinds.Joins(kind) && parts.Count > 0 && parts[^1].Kind == kind)
        {
            parts[^1].Text.Append(text);
        }
        else
        {
            parts.Add((kind, new StringBuilder(text)));
        }
    }

    /// <summary>Adds a chunk's piece: a text chunk's delta, any other kind's part.</summary>
    public void Add(Chunk chunk) => Add(chunk.Kind, chunk.Kind == ChunkKinds.Text ? chunk.Delta : chunk.Part ?? "");

    /// <summary>Starts over from parts read from the server (already joined).</summary>
    public void Reset(IEnumerable<MessagePart> saved)
    {
        built = null;
        parts.Clear();
        parts.AddRange(saved.Select(p => (p.Kind, new StringBuilder(p.Text))));
    }

    /// <summary>The parts so far (the same list until the next change).</summary>
    public IReadOnlyList<MessagePart> Build() => built ??= [.. parts.Select(p => new MessagePart(p.Kind, p.Text.ToString()))];
}
