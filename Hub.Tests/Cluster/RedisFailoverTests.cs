using ChatStreaming.Worker.Redis;
using Xunit.Abstractions;

namespace ChatStreaming.Hub.Tests.Cluster;

/// <summary>
/// Redis Cluster changing under running answers: every master failed over by hand, a master killed with SIGKILL, an
/// answer's slot migrated to another master. Answers generated on one hub and watched live from the other, as a client
/// does: every answer completes; the watcher's live chunks (repeats dropped) with the gaps filled from GetChunks (a
/// missing tail too, fetched when the answer's end arrives) are the saved text; the replay buffer holds every sequence
/// once (what a failover took is written back by the generator); live chunks keep arriving after the change (the
/// sharded subscriptions followed the slots); both hubs stay ready.
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisFailoverTests(ChatOnRedisCluster chat, ClassHubs shared, ITestOutputHelper output) : IClassFixture<ClassHubs>
{
    private const int Answers = 4;

    [Fact]
    public async Task EveryMasterFailedOverByHandMidAnswerLosesNothing() =>
        await AnswersSurviveAsync("failover-by-hand", chat.RedisCluster!, async (cluster, _) =>
        {
            await cluster.FailOverEveryMasterAsync();
            return "every master failed over (CLUSTER FAILOVER on each replica)";
        });

    [Fact]
    public async Task AnAnswerSlotMigratedToAnotherMasterMidAnswerLosesNothing() =>
        await AnswersSurviveAsync("slot-migrated", chat.RedisCluster!, async (cluster, answers) =>
        {
            var (conversation, message) = answers[0];
            var to = await cluster.MigrateSlotOfAsync(RedisKeys.Chunks(conversation, message));
            return $"the slot of answer {message} moved to the master on {to}";
        });

    [Fact]
    public async Task AMasterKilledWithSigkillMidAnswerLosesNothingThatWasAnnounced()
    {
        // A cluster of its own: this one stays a node short.
        await using var cluster = await RedisClusterServer.StartAsync();
        await AnswersSurviveAsync("master-killed", cluster, async (cluster, answers) =>
        {
            var (conversation, message) = answers[0];
            var killed = await cluster.KillMasterOfAsync(RedisKeys.Chunks(conversation, message));
            return $"the master on {killed} (answer {message}'s slot) was killed; its replica took over";
        });
    }

    private async Task AnswersSurviveAsync(string user, RedisClusterServer cluster, Func<RedisClusterServer, (Guid Conversation, Guid Message)[], Task<string>> change)
    {
        var overrides = new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = cluster.ConnectionString,
            ["Chat:Model:Simulated:TokensPerSecond"] = "20",
            ["Chat:Model:Simulated:ResponseTokens"] = "300",
            ["Chat:MaxConcurrentGenerationsPerUser"] = "0",
        };
        // Two hubs shared by the tests on the fixture's cluster (it stays whole); the SIGKILL test's cluster has its own.
        var (generator, other) = cluster == chat.RedisCluster
            ? await SharedHubsAsync(overrides)
            : (await HubInstance.StartAsync(chat.SettingsWith(overrides)), await HubInstance.StartAsync(chat.SettingsWith(overrides)));
        await using var stopped = cluster == chat.RedisCluster ? null : new Stopped(generator, other);
        var token = await chat.TokenAsync(user);
        await using var sender = await ChatTestClient.ConnectAsync(generator.Url, token);
        await using var watcher = await ChatTestClient.ConnectAsync(other.Url, token);
        var answers = new List<(Guid Conversation, Guid Message)>();
        for (var i = 0; i < Answers; i++)
        {
            var conversation = await sender.CreateConversationAsync();
            await watcher.Hub.JoinConversation(conversation.Id);
            var sent = await sender.SendAsync(conversation.Id, $"answer {i} through a changing cluster");
            answers.Add((conversation.Id, sent.AssistantMessageId));
        }

        foreach (var (_, message) in answers)
        {
            await watcher.WaitForChunksAsync(message, 5, TimeSpan.FromSeconds(60));
        }

        var changed = DateTimeOffset.UtcNow;
        output.WriteLine($"{await change(cluster, [.. answers])} in {(DateTimeOffset.UtcNow - changed).TotalSeconds:0.0} s");
        var seenBefore = answers.ToDictionary(a => a.Message, a => watcher.ChunksOf(a.Message).Max(c => c.Sequence));

        foreach (var (_, message) in answers)
        {
            var finished = await watcher.WaitForFinishedAsync(message, TimeSpan.FromSeconds(90));
            Assert.Equal(MessageStatus.Completed, finished.Status);
            var live = watcher.ChunksOf(message);
            var replayed = await ReplayAllAsync(watcher, message);
            StreamAssert.ExactlyOnceInOrder(replayed, finished); // the buffer holds every sequence, once, in order

            // The watcher's view, rebuilt as a client does: live chunks (a repeat dropped), each gap filled from GetChunks.
            var rebuilt = new List<Chunk>();
            foreach (var chunk in live.Where(c => c.Sequence > 0))
            {
                if (chunk.Sequence <= rebuilt.Count)
                {
                    Assert.Equal(replayed[(int)chunk.Sequence - 1].Delta, chunk.Delta); // a repeat carries the same text
                    continue;
                }

                rebuilt.AddRange(replayed.Skip(rebuilt.Count).Take((int)chunk.Sequence - 1 - rebuilt.Count)); // the gap, fetched
                Assert.Equal(replayed[(int)chunk.Sequence - 1].Delta, chunk.Delta);
                rebuilt.Add(chunk);
            }

            // A tail published while the watcher's subscription moved is fetched on GenerationFinished, as the clients do.
            rebuilt.AddRange(replayed.Skip(rebuilt.Count).Take((int)finished.LastSequence - rebuilt.Count));
            StreamAssert.ExactlyOnceInOrder(rebuilt, finished);
            // Still live after the change: the subscription followed the slot, so the answer's last tenth arrived live
            // (not necessarily its very last chunk: a subscription that moves again loses what is published meanwhile).
            Assert.Contains(live, c => c.Sequence > seenBefore[message] && c.Sequence > finished.LastSequence - finished.LastSequence / 10);
            Assert.Equal(SavedAnswer.Of(finished), await chat.SavedAsync(message));
            output.WriteLine($"{message}: {finished.LastSequence} chunks, {live.Count} received live ({live.Select(c => c.Sequence).Distinct().Count()} distinct)");
        }

        using var http = new HttpClient();
        foreach (var hub in new[] { generator, other })
        {
            await Wait.UntilAsync(async () => (await http.GetAsync($"{hub.Url}{ChatHubPaths.HealthReady}")).IsSuccessStatusCode,
                TimeSpan.FromSeconds(30), $"{hub.Url} is not ready after the change");
        }

        var written = generator.Process.Output.Count(l => l.Contains("written back from memory", StringComparison.Ordinal));
        output.WriteLine($"the generator wrote back lost chunks of {written} answers");
    }

    private async Task<(HubInstance, HubInstance)> SharedHubsAsync(Dictionary<string, string> overrides)
    {
        var hubs = await shared.GetAsync(chat, overrides);
        return (hubs[0], hubs[1]);
    }

    /// <summary>Stops hubs a test started for itself.</summary>
    private sealed record Stopped(HubInstance A, HubInstance B) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
        }
    }

    private static async Task<List<Chunk>> ReplayAllAsync(ChatTestClient client, Guid message)
    {
        var all = new List<Chunk>();
        while (true)
        {
            var page = await client.Hub.GetChunks(message, all.Count == 0 ? 0L : all[^1].Sequence);
            if (page.Count == 0)
            {
                return all;
            }

            all.AddRange(page);
        }
    }
}
