using ChatStreaming.Contracts;
using Xunit;

namespace ChatStreaming.Hub.Tests;

internal static class StreamAssert
{
    /// <summary>The invariant of the contract: sequences 1..N once each, in order, and the deltas joined are the content.</summary>
    public static void ExactlyOnceInOrder(IReadOnlyList<Chunk> chunks, GenerationFinished finished)
    {
        Assert.Equal(Enumerable.Range(1, (int)finished.LastSequence).Select(i => (long)i), chunks.Select(c => c.Sequence));
        Assert.Equal(finished.Content, string.Concat(chunks.Select(c => c.Delta)));
        Assert.All(chunks, c => Assert.Equal((finished.ConversationId, finished.MessageId), (c.ConversationId, c.MessageId)));
    }
}
