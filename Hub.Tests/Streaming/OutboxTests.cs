using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.Logging.Abstractions;

namespace ChatStreaming.Hub.Tests.Streaming;

/// <summary>One connection's outbox without a server: what waits goes out together, in order, and a stuck write closes it.</summary>
public sealed class OutboxTests
{
    private static readonly Guid Conversation = Guid.NewGuid();
    private static readonly Guid Answer = Guid.NewGuid();

    [Fact]
    public async Task ChunksWaitingBehindASlowWriteGoOutAsOneBatchAndTheEndStaysAfterThem()
    {
        var socket = new RecordingConnections();
        var outbox = new Outbox("c1", acceptsBatches: true, 100, TimeSpan.FromSeconds(30), socket, (_, _) => { }, NullLogger.Instance);

        outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(1)));
        await socket.Started.WaitAsync(Wait.Default); // chunk 1's write is in flight and held: the rest queue up
        for (var sequence = 2; sequence <= 5; sequence++)
        {
            outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(sequence)));
        }

        outbox.TryPost(Event(ChatHubMethods.GenerationFinished, new GenerationFinished(Conversation, Answer, MessageStatus.Completed, 5, "12345")));
        outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(6)));
        outbox.Complete();
        socket.Release();
        await outbox.Drained.WaitAsync(Wait.Default);

        Assert.Equal([ChatHubMethods.ReceiveChunk, ChatHubMethods.ReceiveChunks, ChatHubMethods.GenerationFinished, ChatHubMethods.ReceiveChunk], socket.Sent.Select(s => s.Method));
        Assert.Equal([2L, 3, 4, 5], ((Chunk[])socket.Sent[1].Argument).Select(c => c.Sequence));
    }

    [Fact]
    public async Task AConnectionThatDidNotAskForBatchesGetsEveryChunkOnItsOwn()
    {
        var socket = new RecordingConnections();
        var outbox = new Outbox("c2", acceptsBatches: false, 100, TimeSpan.FromSeconds(30), socket, (_, _) => { }, NullLogger.Instance);
        outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(1)));
        await socket.Started.WaitAsync(Wait.Default);
        for (var sequence = 2; sequence <= 4; sequence++)
        {
            outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(sequence)));
        }

        outbox.Complete();
        socket.Release();
        await outbox.Drained.WaitAsync(Wait.Default);

        Assert.All(socket.Sent, s => Assert.Equal(ChatHubMethods.ReceiveChunk, s.Method));
        Assert.Equal([1L, 2, 3, 4], socket.Sent.Select(s => ((Chunk)s.Argument).Sequence));
    }

    [Fact]
    public async Task AWriteThatWaitsPastTheSlowClientTimeoutClosesTheConnectionWithTheReason()
    {
        var socket = new RecordingConnections();
        string? reason = null;
        var outbox = new Outbox("c3", acceptsBatches: true, 100, TimeSpan.FromMilliseconds(200), socket, (_, why) => reason = why, NullLogger.Instance);
        outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(1))); // never released: the socket is stuck

        await outbox.Drained.WaitAsync(Wait.Default);

        Assert.StartsWith("slow client: a write waited longer than Chat:SlowClientTimeout", reason, StringComparison.Ordinal);
        Assert.Equal(reason, outbox.Closed);
        Assert.False(outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(2)))); // closed: nothing more is queued
    }

    [Fact]
    public void AFullQueueRefusesThePostSoThePosterClosesTheConnection()
    {
        var outbox = new Outbox("c4", acceptsBatches: true, 16, TimeSpan.FromSeconds(30), new RecordingConnections(), (_, _) => { }, NullLogger.Instance);
        for (var sequence = 1; sequence <= 17; sequence++) // the first is written (and held), 16 wait
        {
            Assert.True(outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(sequence))));
        }

        Assert.False(outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(18))));
    }

    [Fact]
    public void AConnectionThatKeepsUpIsWrittenOnThePostersThreadWithoutAQueue()
    {
        var socket = new RecordingConnections(hold: false);
        var outbox = new Outbox("c5", acceptsBatches: true, 1, TimeSpan.FromSeconds(30), socket, (_, _) => { }, NullLogger.Instance);
        for (var sequence = 1; sequence <= 5; sequence++) // capacity 1: only a write that completes at once keeps this from refusing
        {
            Assert.True(outbox.TryPost(Event(ChatHubMethods.ReceiveChunk, ChunkOf(sequence))));
            Assert.Equal(sequence, socket.Sent.Count); // written before the post returned
        }

        Assert.True(outbox.Drained.IsCompleted);
        Assert.Equal([1L, 2, 3, 4, 5], socket.Sent.Select(s => ((Chunk)s.Argument).Sequence));
    }

    [Fact]
    public void OneEventIsSerializedOnceForEveryConnectionItGoesTo()
    {
        var message = Event(ChatHubMethods.ReceiveChunk, ChunkOf(1));
        var serializations = 0;
        object Serialize(OutboundMessage _)
        {
            serializations++;
            return new object();
        }

        var first = message.Serialized(Serialize);
        for (var connection = 2; connection <= 8; connection++)
        {
            Assert.Same(first, message.Serialized(Serialize));
        }

        Assert.Equal(1, serializations);
    }

    private static OutboundMessage Event(string method, object argument) => new(method, argument);

    private static Chunk ChunkOf(long sequence) => new(Conversation, Answer, sequence, sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), 1.0);

    /// <summary>A connection whose first write is held until <see cref="Release"/> (unless not to hold); every write is recorded.</summary>
    private sealed class RecordingConnections(bool hold = true) : ILocalConnections
    {
        private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<(string Method, object Argument)> Sent { get; } = [];

        public Task Started => started.Task;

        public void Release() => released.TrySetResult();

        public ValueTask SendAsync(string connectionId, OutboundMessage message)
        {
            lock (Sent)
            {
                Sent.Add((message.Method, message.Argument));
            }

            started.TrySetResult();
            return hold ? new ValueTask(released.Task) : ValueTask.CompletedTask;
        }
    }
}
