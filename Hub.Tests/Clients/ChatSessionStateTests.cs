using ChatStreaming.Client.Core;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>
/// <see cref="ChatSession"/>'s answer state when its events come in an order only a race makes (a snapshot read before
/// an end but received after it): applied here in that order, with no server, since no server stages the race on demand.
/// </summary>
public sealed class ChatSessionStateTests
{
    private static readonly Guid Conversation = Guid.NewGuid();
    private static readonly Guid Answer = Guid.NewGuid();

    [Fact]
    public async Task ASnapshotReadBeforeTheEndWasHeardDoesNotTakeBackTheSavedParts()
    {
        await using var session = new ChatSession(new Uri("http://127.0.0.1:9/"), () => Task.FromResult<string?>(null));
        var appended = new List<string>();
        session.TextAppended += (_, text) => appended.Add(text);
        MessagePart[] saved = [new(ChunkKinds.Text, "Let me look."), new(ChunkKinds.ToolCall, """{"name":"search_history"}"""), new(ChunkKinds.ToolResult, """{"hits":0}""")];

        // The text, then the end (its last two chunks, the tool call and its result, were never heard live).
        await session.ApplyChunkAsync(new Chunk(Conversation, Answer, 1, "Let me look.", 0));
        await session.ApplyFinished(new GenerationFinished(Conversation, Answer, MessageStatus.Completed, 3, "Let me look.", Parts: saved));
        // A join's snapshot, read while the answer was still streaming (after the tool call, before its result).
        session.ApplySnapshot([new Message(Answer, Conversation, MessageRole.Assistant, "Let me look.", MessageStatus.Streaming, DateTimeOffset.UtcNow, null, 2,
            Parts: saved[..2])]);

        var answer = session.Find(Answer)!;
        Assert.Equal(saved, answer.Parts);
        Assert.Equal("Let me look.", answer.Text.ToString());
        Assert.Equal(3, answer.LastSequence);
        Assert.Equal(["Let me look."], appended);
    }

    [Fact]
    public async Task AnAnswersLastSequenceIsItsEndsEvenWhenItsLastChunksWereNotText()
    {
        await using var session = new ChatSession(new Uri("http://127.0.0.1:9/"), () => Task.FromResult<string?>(null));
        await session.ApplyChunkAsync(new Chunk(Conversation, Answer, 1, "Done.", 0));
        await session.ApplyFinished(new GenerationFinished(Conversation, Answer, MessageStatus.Completed, 2, "Done.",
            Parts: [new(ChunkKinds.Text, "Done."), new(ChunkKinds.Reasoning, "checked")]));

        Assert.Equal(2, session.Find(Answer)!.LastSequence);
        Assert.Equal(2, session.Find(Answer)!.Parts.Count);
    }
}
