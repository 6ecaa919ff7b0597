using System.Collections.Concurrent;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Hub.Tests.Cluster;

/// <summary>
/// The chunk path on a real Redis Cluster (six local nodes, three masters): a conversation's keys and channel share
/// one slot, so the one script that appends a chunk and publishes it runs on the conversation's master, and the
/// publish is sharded (it reaches that shard's subscribers only).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class RedisClusterTests
{
    [Fact]
    public async Task OnAClusterEachChunkIsAppendedAndPublishedOnItsConversationsShardInOneScript()
    {
        await using var cluster = await RedisClusterServer.StartAsync();
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
            foreach (var (conversation, answer) in answers)
            {
                for (var sequence = 1; sequence <= 3; sequence++)
                {
                    Assert.Equal(ChunkWrite.Written, await writer.WriteAsync(AnswerKeys.For(conversation, answer), new Chunk(conversation, answer, sequence, $"d{sequence}", 1.0)));
                }
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
}
