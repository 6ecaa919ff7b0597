using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;
using ChatStreaming.Hub.Tests.Infrastructure;
using Dapper;
using Xunit;

namespace ChatStreaming.Hub.Tests;

/// <summary>The real redis-server of the cluster restarted or its pub/sub connections killed, mid-answer.</summary>
[Collection(ClusterCollection.Name)]
public sealed class RedisFaultTests(ChatCluster cluster)
{
    [Fact]
    public async Task ARedisRestartMidAnswerEndsWithTheSavedAnswerAndTheHubsRecover()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "redis-restart");
        var conversation = await client.CreateConversationAsync();
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:Model:Simulated:TokensPerSecond"] = "20";
        settings["Chat:Model:Simulated:ResponseTokens"] = "120";
        await using var generator = await HubInstance.StartAsync(settings);
        await using var sender = await cluster.ConnectAsync(generator.Url, "redis-restart");
        var sent = await sender.SendAsync(conversation.Id, "survive a restart");
        await client.WaitForChunksAsync(sent.AssistantMessageId, 5);

        await cluster.Redis.StopProcessAsync();
        await Task.Delay(TimeSpan.FromSeconds(3)); // Redis is down for a while (this is the fault, not a wait for an event)
        await cluster.Redis.StartProcessAsync(); // same port, all data lost
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(40));

        // Explicit end with the saved text: whatever chunks were lost while Redis was away, the content is whole.
        await using (var connection = await cluster.Db.OpenConnectionAsync())
        {
            var saved = await connection.QuerySingleAsync<(string Content, string Status)>("SELECT content, status FROM messages WHERE id = @Id", new { Id = sent.AssistantMessageId });
            Assert.Equal((finished.Content, finished.Status.ToWireName()), saved);
        }

        Assert.Equal(MessageStatus.Completed, finished.Status);
        var seen = string.Concat(client.ChunksOf(sent.AssistantMessageId).OrderBy(c => c.Sequence).TakeWhile((c, i) => c.Sequence == i + 1).Select(c => c.Delta));
        Assert.StartsWith(seen, finished.Content, StringComparison.Ordinal);

        // The hubs recovered by themselves: a new answer streams whole through both instances.
        await using var other = await cluster.ConnectAsync(cluster.B, "redis-restart");
        await other.InvokeAsync<ConversationSnapshot>(ChatHubMethods.JoinConversation, conversation.Id);
        var again = await client.SendAsync(conversation.Id, "and after it?");
        var next = await other.WaitForFinishedAsync(again.AssistantMessageId, TimeSpan.FromSeconds(30));
        StreamAssert.ExactlyOnceInOrder(other.ChunksOf(again.AssistantMessageId), next);
    }

    [Fact]
    public async Task ChunksPublishedWhilePubSubIsDownAreRecoveredByTheClientsGapDetection()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:Model:Simulated:TokensPerSecond"] = "25";
        settings["Chat:Model:Simulated:ResponseTokens"] = "150";
        await using var generator = await HubInstance.StartAsync(settings);
        var token = await cluster.TokenAsync("pubsub-kill");
        await using var session = new ChatSession(new Uri(cluster.A), () => Task.FromResult<string?>(token));
        await session.StartAsync(CancellationToken.None);
        var conversation = await session.CreateConversationAsync("gaps", CancellationToken.None);
        await using var sender = await ChatTestClient.ConnectAsync(generator.Url, token);
        var finished = new TaskCompletionSource<AnswerState>();
        session.Finished += answer => finished.TrySetResult(answer);
        var chunks = 0;
        session.ChunkReceived += _ => Interlocked.Increment(ref chunks);

        var sent = await sender.SendAsync(conversation.Id, "mind the gap");
        await Wait.UntilAsync(() => Volatile.Read(ref chunks) >= 10, Wait.Default, "the answer did not start");
        var server = cluster.RedisClient.GetServers().Single();
        await server.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        var answer = await finished.Task.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(sent.AssistantMessageId, answer.MessageId);
        Assert.Equal(answer.Finished!.Content, answer.Text.ToString()); // exact, whatever the pub/sub gap cost
        Assert.Equal(MessageStatus.Completed, answer.Finished.Status);
        await Wait.UntilAsync(async () => (long)(await server.ExecuteAsync("PUBSUB", "NUMPAT")) >= 0
            && ((RedisResultArray(await server.ExecuteAsync("PUBSUB", "CHANNELS")).Length) > 0), TimeSpan.FromSeconds(5), "pub/sub was not re-subscribed within 5 s");
    }

    private static StackExchange.Redis.RedisResult[] RedisResultArray(StackExchange.Redis.RedisResult result) => (StackExchange.Redis.RedisResult[])result!;
}
