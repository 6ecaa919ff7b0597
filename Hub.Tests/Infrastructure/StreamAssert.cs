namespace ChatStreaming.Hub.Tests.Infrastructure;

internal static class StreamAssert
{
    /// <summary>The invariant of the contract: sequences 1..N once each, in order, and the deltas joined are the content.</summary>
    public static void ExactlyOnceInOrder(IReadOnlyList<Chunk> chunks, GenerationFinished finished)
    {
        Assert.Equal(Enumerable.Range(1, (int)finished.LastSequence).Select(i => (long)i), chunks.Select(c => c.Sequence));
        Assert.Equal(finished.Content, string.Concat(chunks.Select(c => c.Delta)));
        Assert.All(chunks, c => Assert.Equal((finished.ConversationId, finished.MessageId), (c.ConversationId, c.MessageId)));
    }

    /// <summary>
    /// Every kind of chunk once, in order, and the parts they make (consecutive text or reasoning joined) are the parts
    /// the end announced; the text deltas alone are the content.
    /// </summary>
    public static void EveryPartOnceInOrder(IReadOnlyList<Chunk> chunks, GenerationFinished finished)
    {
        ExactlyOnceInOrder(chunks, finished);
        Assert.All(chunks, c => Assert.True(c.Kind == ChunkKinds.Text ? c.Part is null : c.Delta == "" && c.Part is not null, $"chunk {c.Sequence}: {c}"));
        Assert.Equal(finished.Parts, PartsOf(chunks));
    }

    /// <summary>The parts a series of chunks makes.</summary>
    public static List<MessagePart> PartsOf(IEnumerable<Chunk> chunks)
    {
        var parts = new List<MessagePart>();
        foreach (var chunk in chunks)
        {
            var text = chunk.Kind == ChunkKinds.Text ? chunk.Delta : chunk.Part!;
            if (ChunkKinds.Joins(chunk.Kind) && parts.Count > 0 && parts[^1].Kind == chunk.Kind)
            {
                parts[^1] = parts[^1] with { Text = parts[^1].Text + text };
            }
            else
            {
                parts.Add(new MessagePart(chunk.Kind, text));
            }
        }

        return parts;
    }
}
