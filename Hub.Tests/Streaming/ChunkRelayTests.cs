using System.Threading.Channels;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Streaming;

namespace ChatStreaming.Hub.Tests.Streaming;

/// <summary>The relay alone: no servers, a sink that is as slow as a struggling Redis.</summary>
public sealed class ChunkRelayTests
{
    private static readonly Guid Conversation = Guid.NewGuid();
    private static readonly Guid MessageId = Guid.NewGuid();

    [Fact]
    public async Task ASlowSinkGetsDeltasMergedWithNoneLostAndOrderKept()
    {
        var deltas = Channel.CreateUnbounded<ModelDelta>();
        var written = new List<Chunk>();
        var gate = new SemaphoreSlim(0);
        var relay = ChunkRelay.RunAsync(Conversation, MessageId, deltas.Reader, async (chunk, _) =>
        {
            lock (written)
            {
                written.Add(chunk);
            }

            await gate.WaitAsync(); // the sink is stuck until released, like a Redis that stopped answering
        }, CancellationToken.None);
        var texts = Enumerable.Range(0, 500).Select(i => $"w{i} ").ToList();
        int Written() { lock (written) { return written.Count; } }

        Assert.True(deltas.Writer.TryWrite(new ModelDelta(texts[0], 0)));
        await Infrastructure.Wait.UntilAsync(() => Written() == 1, TimeSpan.FromSeconds(5), "first chunk");
        for (var i = 1; i < 250; i++)
        {
            Assert.True(deltas.Writer.TryWrite(new ModelDelta(texts[i], i))); // the model side never waits
        }

        gate.Release();
        await Infrastructure.Wait.UntilAsync(() => Written() == 2, TimeSpan.FromSeconds(5), "second chunk");
        for (var i = 250; i < 500; i++)
        {
            Assert.True(deltas.Writer.TryWrite(new ModelDelta(texts[i], i)));
        }

        deltas.Writer.Complete();
        gate.Release(10);
        var result = await relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([texts[0], string.Concat(texts[1..250]), string.Concat(texts[250..])], written.Select(c => c.Delta));
        Assert.Equal([1L, 2L, 3L], written.Select(c => c.Sequence));
        Assert.Equal([0.0, 1.0, 250.0], written.Select(c => c.EmittedAt)); // a merged chunk is as old as its oldest delta
        Assert.Equal(string.Concat(texts), result.Content);
        Assert.Equal(3, result.LastSequence);
        Assert.Equal(500, result.Deltas);
    }

    [Fact]
    public async Task ASinkThatKeepsUpGetsOneChunkPerDelta()
    {
        var deltas = Channel.CreateUnbounded<ModelDelta>();
        var written = Channel.CreateUnbounded<Chunk>();
        var relay = ChunkRelay.RunAsync(Conversation, MessageId, deltas.Reader, (c, _) => written.Writer.WriteAsync(c).AsTask(), CancellationToken.None);
        var seen = new List<Chunk>();
        for (var i = 0; i < 20; i++)
        {
            await deltas.Writer.WriteAsync(new ModelDelta($"{i}", i));
            seen.Add(await written.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5))); // nothing queues up
        }

        deltas.Writer.Complete();
        await relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"{i}"), seen.Select(c => c.Delta));
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), seen.Select(c => c.Sequence));
    }

    [Fact]
    public async Task WhatTheModelSaysWhileTheRelayLingersGoesOutAsOneChunkInOrder()
    {
        var deltas = Channel.CreateUnbounded<ModelDelta>();
        var written = Channel.CreateUnbounded<Chunk>();
        var lingering = Channel.CreateUnbounded<TaskCompletionSource>(); // one per chunk: the relay waits until the test lets it go
        var relay = ChunkRelay.RunAsync(Conversation, MessageId, deltas.Reader, (c, _) => written.Writer.WriteAsync(c).AsTask(), CancellationToken.None,
            gather: () =>
            {
                var linger = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lingering.Writer.TryWrite(linger);
                return linger.Task;
            });
        async Task<Chunk> NextChunkAsync() => await written.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        async Task<TaskCompletionSource> NextLingerAsync() => await lingering.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));

        await deltas.Writer.WriteAsync(new ModelDelta("first ", 0));
        var first = await NextChunkAsync(); // an answer's first delta does not wait for company
        var linger = await NextLingerAsync();
        for (var i = 1; i <= 5; i++)
        {
            await deltas.Writer.WriteAsync(new ModelDelta($"w{i} ", i)); // said while the relay lingers
        }

        linger.SetResult();
        var second = await NextChunkAsync();
        linger = await NextLingerAsync();
        await deltas.Writer.WriteAsync(new ModelDelta("last", 6));
        deltas.Writer.Complete();
        linger.SetResult();
        var third = await NextChunkAsync();
        (await NextLingerAsync()).SetResult();
        var result = await relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["first ", "w1 w2 w3 w4 w5 ", "last"], new[] { first, second, third }.Select(c => c.Delta));
        Assert.Equal([1L, 2L, 3L], new[] { first, second, third }.Select(c => c.Sequence));
        Assert.Equal(1.0, second.EmittedAt); // as old as its oldest delta: the linger counts in the latency measured
        Assert.Equal("first w1 w2 w3 w4 w5 last", result.Content);
        Assert.Equal(3, result.LastSequence);
        Assert.Equal(7, result.Deltas);
    }

    [Fact]
    public async Task AChunkTheSinkRefusedGoesOutWithTheNextOneUnderTheSameSequence()
    {
        var deltas = Channel.CreateUnbounded<ModelDelta>();
        var calls = 0;
        var seen = new List<Chunk>();
        var relay = ChunkRelay.RunAsync(Conversation, MessageId, deltas.Reader, (chunk, _) =>
        {
            switch (++calls)
            {
                case 3: throw new InvalidOperationException("redis down");
                case 4: throw new TaskCanceledException("publish timed out"); // how a backplane timeout can surface
            }

            seen.Add(chunk);
            return Task.CompletedTask;
        }, CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            await deltas.Writer.WriteAsync(new ModelDelta($"{i} ", i));
            await Task.Delay(2);
        }

        deltas.Writer.Complete();
        var result = await relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("0 1 2 3 4 5 6 7 8 9 ", result.Content);
        Assert.Equal(result.Content, string.Concat(seen.Select(c => c.Delta))); // nothing dropped
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (long)i), seen.Select(c => c.Sequence)); // no gap
        Assert.Equal(seen.Count, result.LastSequence);
        Assert.NotNull(result.SinkError);
    }

    [Fact]
    public async Task ASinkThatFailsToTheEndLeavesTheTextWholeInTheResult()
    {
        var deltas = Channel.CreateUnbounded<ModelDelta>();
        var calls = 0;
        var relay = ChunkRelay.RunAsync(Conversation, MessageId, deltas.Reader, (_, _) =>
            ++calls >= 3 ? throw new InvalidOperationException("redis gone") : Task.CompletedTask, CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            await deltas.Writer.WriteAsync(new ModelDelta($"{i} ", i));
            await Task.Delay(2);
        }

        deltas.Writer.Complete();
        var result = await relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, result.LastSequence);
        Assert.Equal("0 1 2 3 4 5 6 7 8 9 ", result.Content);
        Assert.IsType<InvalidOperationException>(result.SinkError);
    }
}
