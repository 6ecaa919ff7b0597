using System.Collections.Concurrent;
using ChatStreaming.Persistence;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Hub.Tests.Cluster;

/// <summary>
/// The chunk path on a real Redis Cluster (six local nodes, three masters): a conversation's keys and channel share
/// one slot, so the one script that appends a chunk and publishes it runs on the conversation's master, and the
/// publish is sharded (it reaches that shard's subscribers only).
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterTests(ChatOnRedisCluster chat)
{
    /// <summary>
    /// Two hubs whose <c>ConnectionStrings:Redis</c> names the cluster's nodes: an answer sent through one and watched
    /// through the other arrives once, in order, equal to what is saved; a client fetching it again with GetChunks gets
    /// the same; an answer cancelled from the other instance ends cancelled and saved as announced; both stay ready.
    /// </summary>
    [Fact]
    public async Task TwoHubsOnAClusterStreamReplayCancelAndSaveEachAnswerExactly()
    {
        var settings = new Dictionary<string, string>(chat.Settings)
        {
            ["Chat:Model:Simulated:ResponseTokens"] = "150",
        };
        await using var a = await HubInstance.StartAsync(settings);
        await using var b = await HubInstance.StartAsync(settings);
        var token = await chat.TokenAsync("on-a-cluster");
        await using var sender = await ChatTestClient.ConnectAsync(a.Url, token);
        await using var watcher = await ChatTestClient.ConnectAsync(b.Url, token);
        var conversation = await sender.CreateConversationAsync();
        await watcher.Hub.JoinConversation(conversation.Id);

        var sent = await sender.SendAsync(conversation.Id, "stream me on a cluster");
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(60));
        var chunks = watcher.ChunksOf(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Completed, finished.Status);
        Assert.Equal(Enumerable.Range(1, chunks.Count).Select(i => (long)i), chunks.Select(c => c.Sequence)); // once each, in order
        Assert.Equal(finished.Content, string.Concat(chunks.Select(c => c.Delta)));
        Assert.Equal(SavedAnswer.Of(finished), await chat.SavedAsync(sent.AssistantMessageId));
        var replayed = await watcher.Hub.GetChunks(sent.AssistantMessageId, 0L);
        Assert.Equal(chunks.Select(c => (c.Sequence, c.Delta)), replayed.Select(c => (c.Sequence, c.Delta)));

        var stopped = await sender.SendAsync(conversation.Id, "and stop this one");
        await watcher.WaitForChunksAsync(stopped.AssistantMessageId, 3, TimeSpan.FromSeconds(60));
        Assert.True(await watcher.Hub.CancelGeneration(stopped.AssistantMessageId));
        var cancelled = await sender.WaitForFinishedAsync(stopped.AssistantMessageId, TimeSpan.FromSeconds(60));
        Assert.Equal(MessageStatus.Cancelled, cancelled.Status);
        Assert.Equal(SavedAnswer.Of(cancelled), await chat.SavedAsync(stopped.AssistantMessageId));

        using var http = new HttpClient();
        Assert.True((await http.GetAsync($"{a.Url}{ChatHubPaths.HealthReady}")).IsSuccessStatusCode);
        Assert.True((await http.GetAsync($"{b.Url}{ChatHubPaths.HealthReady}")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task OnAClusterEachChunkIsAppendedAndPublishedOnItsConversationsShardInOneScript()
    {
        var cluster = chat.RedisCluster!;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var topology = new RedisTopology(redis);
        Assert.True(topology.IsCluster);
        var writer = new ChunkWriter(redis, new ReplayStream(redis, topology, Options.Create(new ChatStreamingOptions())), new InstanceIdentity());
        await writer.StartAsync(CancellationToken.None);
        try
        {
            // Enough conversations that their slots fall on more than one master.
            var conversations = Enumerable.Range(0, 12).Select(_ => Guid.NewGuid()).ToArray();
            var received = new ConcurrentQueue<(Guid Conversation, long Sequence)>();
            foreach (var conversation in conversations)
            {
                var events = await redis.GetSubscriber().SubscribeAsync(topology.ConversationEvents(conversation));
                events.OnMessage(m =>
                {
                    if (ConversationEvent.Decode(conversation, (byte[])m.Message!) is { Argument: Chunk chunk })
                    {
                        received.Enqueue((conversation, chunk.Sequence));
                    }
                });
            }

            var answers = conversations.ToDictionary(c => c, _ => Guid.NewGuid());
            for (var sequence = 1; sequence <= 3; sequence++)
            {
                // Every answer's chunk at once, so the writer's batches may hold chunks of several slots, on several masters.
                var writes = answers.Select(a => writer.WriteAsync(AnswerKeys.For(a.Key, a.Value), new Chunk(a.Key, a.Value, sequence, $"d{sequence}", 1.0)));
                Assert.All(await Task.WhenAll(writes), write => Assert.Equal(ChunkWrite.Written, write));
            }

            await Wait.UntilAsync(() => received.Count == 3 * conversations.Length, Wait.Default, "not every chunk was published");
            var db = redis.GetDatabase();
            var masters = new HashSet<int>();
            foreach (var (conversation, answer) in answers)
            {
                Assert.Equal([1L, 2, 3], received.Where(r => r.Conversation == conversation).Select(r => r.Sequence)); // once each, in order
                Assert.Equal(3, (await db.StreamRangeAsync(RedisKeys.Chunks(conversation, answer))).Length);
                var master = await cluster.MasterOfAsync(RedisKeys.Chunks(conversation, answer));
                Assert.Equal(master, await cluster.MasterOfAsync(RedisKeys.Generation(conversation, answer)));
                Assert.Equal(master, await cluster.MasterOfAsync(RedisKeys.ConversationEvents(conversation).ToString()));
                // Sharded: the channel is known to its own master only.
                foreach (var port in cluster.Ports)
                {
                    var channels = await RedisClusterServer.Cli(port, "pubsub", "shardchannels");
                    Assert.Equal(port == master, channels.Contains(RedisKeys.ConversationEvents(conversation).ToString(), StringComparison.Ordinal));
                }

                masters.Add(master);
            }

            Assert.True(masters.Count > 1, "every conversation fell on one master: the test proves nothing about sharding");
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Every script of an answer's life and of a user's limits, called the way the product calls it, on the cluster:
    /// admission, registration, renewal, cancel, finish, keep, the call limit, the token count, the orphan claim (both
    /// taking over and ending), forget. None is refused (a script touching two slots fails with CROSSSLOT), and each
    /// does what it does on a single node.
    /// </summary>
    [Fact]
    public async Task EveryScriptRunsOnTheClusterAndDoesWhatItDoesOnASingleNode()
    {
        using var host = WorkerHost.Create(chat, new Dictionary<string, string> { ["Chat:TokensPerDayPerUser"] = "1000" });
        var state = host.Services.GetRequiredService<GenerationState>();
        var limiter = host.Services.GetRequiredService<UserLimiter>();
        var db = chat.RedisClient.GetDatabase();
        var (user, conversation, question) = ($"scripts-{Guid.NewGuid():N}", Guid.NewGuid(), Guid.NewGuid());

        async Task<Guid> RegisteredAsync()
        {
            var admission = await limiter.AdmitAsync(user, conversation, Guid.NewGuid().ToString("N"));
            Assert.Equal(AdmissionResult.Admitted, admission.Result);
            var message = Guid.NewGuid();
            await state.RegisterAsync(message, conversation, question, user, admission);
            return message;
        }

        var ended = await RegisteredAsync();
        Assert.Empty(await state.RenewAsync([new OwnedAnswer(ended, conversation, question, user)]));
        Assert.True(await state.RequestCancelAsync(conversation, ended));
        Assert.Equal(MessageStatus.Cancelled, await state.FinishAsync(conversation, ended, MessageStatus.Completed, null)); // the cancel came first
        await state.KeepAsync(conversation, ended);
        Assert.Null(await limiter.CountCallAsync(user, "reads", 10));
        Assert.True(await limiter.SpendTokensAsync(user, ended, epoch: 1, tokens: 5));

        // Two orphans: their instance is gone and their lease ran out.
        var (takenOver, interrupted) = (await RegisteredAsync(), await RegisteredAsync());
        foreach (var orphan in new[] { takenOver, interrupted })
        {
            await db.HashSetAsync(RedisKeys.Generation(conversation, orphan), [new("lease", 1), new("instance", "gone")]);
        }

        var claim = await state.ClaimOrphanAsync(conversation, takenOver, leaseExpired: true, takeOver: true);
        Assert.Equal((MessageStatus.Streaming, 2L), (claim!.Status, claim.Continuation!.Epoch));
        Assert.Null(await state.FinishAsync(conversation, takenOver, MessageStatus.Completed, null, epoch: 1)); // fenced
        Assert.Equal(MessageStatus.Completed, await state.FinishAsync(conversation, takenOver, MessageStatus.Completed, null, epoch: 2));
        Assert.Equal(MessageStatus.Interrupted, (await state.ClaimOrphanAsync(conversation, interrupted, leaseExpired: true, takeOver: false))!.Status);

        await state.ForgetAsync(conversation, [ended, takenOver, interrupted]);
        Assert.False(await db.KeyExistsAsync(RedisKeys.Generation(conversation, ended)));
    }
}
