using ChatStreaming.Worker;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Hub.Tests.Streaming;

/// <summary>
/// The chunk path: one Redis script writes a chunk to the replay buffer and publishes it; the producing instance writes
/// it to its own connections directly (no echo through Redis), the others get it by their conversation subscription.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DeliveryTests(ChatCluster cluster)
{
    [Fact]
    public async Task EveryChunkIsInTheReplayBufferBeforeAClientReceivesItOnTheProducingInstanceAndOnTheOther()
    {
        await using var local = await cluster.ConnectAsync(cluster.A, "buffered-first");
        await using var remote = await cluster.ConnectAsync(cluster.B, "buffered-first");
        var conversation = await local.CreateConversationAsync();
        await remote.Hub.JoinConversation(conversation.Id);
        var early = new System.Collections.Concurrent.ConcurrentBag<string>();
        var checkedChunks = 0;
        var redis = cluster.RedisClient.GetDatabase();
        foreach (var (name, client) in new[] { ("local", local), ("remote", remote) })
        {
            // Read on arrival, before the client goes on: the chunk must already be there for a gap fill to find it.
            void Check(Chunk chunk)
            {
                var id = $"0-{chunk.Sequence}";
                var entries = redis.StreamRange(RedisKeys.Chunks(chunk.ConversationId, chunk.MessageId), id, id);
                if (entries.Length != 1 || (string?)entries[0]["d"] != chunk.Delta)
                {
                    early.Add($"{name} #{chunk.Sequence}");
                }

                Interlocked.Increment(ref checkedChunks);
            }

            client.Connection.On<Chunk>(ChatHubMethods.ReceiveChunk, Check);
            client.Connection.On<Chunk[]>(ChatHubMethods.ReceiveChunks, batch => Array.ForEach(batch, Check)); // a connection that backed up
        }

        var sent = await local.SendAsync(conversation.Id, "was it buffered first");
        var finished = await local.WaitForFinishedAsync(sent.AssistantMessageId);
        await remote.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Empty(early);
        Assert.Equal(2 * finished.LastSequence, Volatile.Read(ref checkedChunks));
        StreamAssert.ExactlyOnceInOrder(local.ChunksOf(sent.AssistantMessageId), finished); // local: no second copy by the echo
        StreamAssert.ExactlyOnceInOrder(remote.ChunksOf(sent.AssistantMessageId), finished);
        Assert.Equal(Simulated.Answer("was it buffered first"), finished.Content);

        // The other instance timed each chunk it received from Redis (the benchmark's stage breakdown reads this).
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"{cluster.B}/metrics");
        Assert.True(Prometheus.Value(metrics, "chatstreaming_chunk_received_delay_milliseconds_count") >= finished.LastSequence, "no received-delay samples on the other instance");
    }

    [Fact]
    public async Task ABatchThatFailsHalfWayFailsOnlyTheChunksItCouldNotWriteAndPublishesOnlyWhatItWrote()
    {
        // One batch in flight, so the chunks written while it waits share the next one.
        var writer = new ChunkWriter(cluster.RedisClient, new ReplayStream(cluster.RedisClient, new RedisTopology(cluster.RedisClient), Options.Create(new ChatStreamingOptions())), new InstanceIdentity(), maxBatchesInFlight: 1);
        await writer.StartAsync(CancellationToken.None);
        await using var stop = new AsyncDisposable(() => writer.StopAsync(CancellationToken.None)); // drains, as the host does
        var conversationId = Guid.NewGuid();
        Guid[] answers = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];
        var keys = answers.Select(a => AnswerKeys.For(conversationId, a)).ToArray();
        var db = cluster.RedisClient.GetDatabase();
        await db.StringSetAsync(keys[2].Chunks, "not a stream", TimeSpan.FromMinutes(1)); // the third chunk's write fails
        var published = new System.Collections.Concurrent.ConcurrentQueue<Guid>();
        var events = await cluster.RedisClient.GetSubscriber().SubscribeAsync(RedisKeys.ConversationEvents(conversationId));
        events.OnMessage(m =>
        {
            if (ConversationEvent.Decode(conversationId, (byte[])m.Message!) is { Argument: Chunk chunk })
            {
                published.Enqueue(chunk.MessageId);
            }
        });
        Chunk ChunkOf(int answer) => new(conversationId, answers[answer], 1, $"delta of {answer}", 1.5);

        // Redis paused: the chunks queue up behind the first batch in flight, so the failing chunk shares a batch with
        // chunks that succeed (all four at once, or the last three).
        await cluster.RedisClient.GetServers().Single().ExecuteAsync("CLIENT", "PAUSE", "500", "ALL");
        var first = writer.WriteAsync(keys[0], ChunkOf(0));
        var batch = Enumerable.Range(1, 3).Select(i => writer.WriteAsync(keys[i], ChunkOf(i))).ToArray();

        Assert.Equal(ChunkWrite.Written, await first);
        Assert.Equal(ChunkWrite.Written, await batch[0]);
        var failed = await Assert.ThrowsAsync<RedisServerException>(() => batch[1]);
        Assert.Contains("WRONGTYPE", failed.Message, StringComparison.Ordinal);
        Assert.Equal(ChunkWrite.Written, await batch[2]);
        Assert.True(writer.BatchesSent <= 2, $"the four chunks went in {writer.BatchesSent} batches: the failing one may have been alone");
        foreach (var i in Written)
        {
            var entries = await db.StreamRangeAsync(keys[i].Chunks);
            Assert.Equal(($"delta of {i}", 1L), ((string?)entries.Single()["d"], long.Parse(((string)entries.Single().Id!)[2..], System.Globalization.CultureInfo.InvariantCulture)));
        }

        // A repeat (its first reply lost) writes and publishes nothing again.
        Assert.Equal(ChunkWrite.Repeated, await writer.WriteAsync(keys[1], ChunkOf(1)));
        await Wait.UntilAsync(() => published.Count >= 3, Wait.Default, "the written chunks were not published");
        await Task.Delay(200); // anything published by mistake (the failed chunk, the repeat) has arrived by now
        Assert.Equal(Written.Select(i => answers[i]).Order(), published.Order());
        Assert.Single(await db.StreamRangeAsync(keys[1].Chunks));
        await events.UnsubscribeAsync();
    }

    private static readonly int[] Written = [0, 1, 3];

    [Fact]
    public async Task AnInstanceDropsAConversationsSubscriptionWithItsLastConnectionThere()
    {
        var client = await cluster.ConnectAsync(cluster.B, "unsubscribes");
        var conversation = await client.CreateConversationAsync();
        var other = await cluster.ConnectAsync(cluster.B, "unsubscribes");
        await other.Hub.JoinConversation(conversation.Id);
        var server = cluster.RedisClient.GetServers().Single();
        var channel = RedisKeys.ConversationEvents(conversation.Id);
        async Task<long> SubscribersAsync() => (long)((RedisResult[])(await server.ExecuteAsync("PUBSUB", "NUMSUB", channel.ToString()))!)[1];

        Assert.Equal(1, await SubscribersAsync()); // two members on B, one subscription
        await other.Hub.LeaveConversation(conversation.Id);
        Assert.Equal(1, await SubscribersAsync());
        await client.DisposeAsync(); // the last member goes by disconnecting
        await Wait.UntilAsync(async () => await SubscribersAsync() == 0, Wait.Default, "the subscription outlived the conversation's last connection");

        await other.Hub.JoinConversation(conversation.Id);
        Assert.Equal(1, await SubscribersAsync()); // a new member subscribes again
        var sent = await other.SendAsync(conversation.Id, "after rejoining");
        var finished = await other.WaitForFinishedAsync(sent.AssistantMessageId);
        StreamAssert.ExactlyOnceInOrder(other.ChunksOf(sent.AssistantMessageId), finished);
        await other.DisposeAsync();
    }

    private sealed class AsyncDisposable(Func<Task> dispose) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await dispose();
    }
}
