using Dapper;

namespace ChatStreaming.Hub.Tests.Streaming;

[Collection(ClusterCollection.Name)]
public class StreamingTests(ChatCluster cluster)
{
    [Fact]
    public async Task ChunksOfAnAnswerSentViaInstanceBReachAClientOnInstanceA()
    {
        await using var onA = await cluster.ConnectAsync(cluster.A, "cross-a");
        await using var onB = await cluster.ConnectAsync(cluster.B, "cross-a");
        var conversation = await onA.CreateConversationAsync();

        var sent = await onB.SendAsync(conversation.Id, "hello from B");
        var finished = await onA.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal(MessageStatus.Completed, finished.Status);
        StreamAssert.ExactlyOnceInOrder(onA.ChunksOf(sent.AssistantMessageId), finished);
        Assert.Equal(Simulated.Answer("hello from B"), finished.Content); // the whole answer, however it was chunked
    }

    [Fact]
    public async Task TwoTabsOfOneUserOnDifferentInstancesSeeTheSameAnswerLive()
    {
        await using var tab1 = await cluster.ConnectAsync(cluster.A, "two-tabs");
        await using var tab2 = await cluster.ConnectAsync(cluster.B, "two-tabs");
        var conversation = await tab1.CreateConversationAsync();
        await tab2.Hub.JoinConversation(conversation.Id);

        var sent = await tab1.SendAsync(conversation.Id, "same answer everywhere");
        var finished1 = await tab1.WaitForFinishedAsync(sent.AssistantMessageId);
        var finished2 = await tab2.WaitForFinishedAsync(sent.AssistantMessageId);

        StreamAssert.ExactlyOnceInOrder(tab1.ChunksOf(sent.AssistantMessageId), finished1);
        StreamAssert.ExactlyOnceInOrder(tab2.ChunksOf(sent.AssistantMessageId), finished2);
        Assert.Equal(finished1, finished2);
        Assert.Contains(tab2.MessagesAdded, m => m.Id == sent.UserMessageId && m.Content == "same answer everywhere");
        Assert.Contains(tab2.Started, s => s.MessageId == sent.AssistantMessageId && s.UserMessageId == sent.UserMessageId);
    }

    [Fact]
    public async Task FinalContentEqualsTheStreamAndTheSavedRow()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "saved-row");
        var conversation = await client.CreateConversationAsync();

        var sent = await client.SendAsync(conversation.Id, "what is saved?");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);

        StreamAssert.ExactlyOnceInOrder(client.ChunksOf(sent.AssistantMessageId), finished);
        var row = await cluster.SavedAsync(sent.AssistantMessageId);
        Assert.Equal(new SavedAnswer(finished.Content, "completed", finished.LastSequence), row);
        Assert.Equal(Simulated.Answer("what is saved?"), row.Content);

        var history = await client.Hub.JoinConversation(conversation.Id);
        Assert.Equal([MessageRole.User, MessageRole.Assistant], history.Messages.Select(m => m.Role));
        Assert.Equal(finished.Content, history.Messages[1].Content);
        Assert.Equal(finished.LastSequence, history.Messages[1].LastSequence);
    }

    [Fact]
    public async Task GetChunksReplaysEveryChunkAfterTheGivenSequenceInOrder()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "replayer");
        await using var other = await cluster.ConnectAsync(cluster.B, "replayer");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "replay me");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);

        var after = finished.LastSequence / 2; // whatever number of chunks the relay made
        var all = await other.Hub.GetChunks(sent.AssistantMessageId, 0L);
        var tail = await other.Hub.GetChunks(sent.AssistantMessageId, after);

        Assert.Equal(client.ChunksOf(sent.AssistantMessageId), all);
        Assert.Equal(Enumerable.Range((int)after + 1, (int)(finished.LastSequence - after)).Select(i => (long)i), tail.Select(c => c.Sequence));
        Assert.Empty(await other.Hub.GetChunks(sent.AssistantMessageId, finished.LastSequence));
    }

    [Fact]
    public async Task JoiningMidStreamGivesTheTextSoFarThenTheRestLiveWithoutAGap()
    {
        // A long answer: the join always lands mid-answer; a few more chunks after it, the sender stops it.
        var generator = await cluster.LongAnswerHubAsync();
        await using var sender = await cluster.ConnectAsync(generator.Url, "mid-stream");
        await using var late = await cluster.ConnectAsync(cluster.B, "mid-stream");
        var conversation = await sender.CreateConversationAsync();
        var sent = await sender.SendAsync(conversation.Id, "join me halfway");
        await sender.WaitForChunksAsync(sent.AssistantMessageId, 8);

        var snapshot = await late.Hub.JoinConversation(conversation.Id);
        var streaming = Assert.Single(snapshot.Messages, m => m.Id == sent.AssistantMessageId);
        // Chunks published between the join and the read arrive live as well (dropped by sequence): wait for new ones.
        await Wait.UntilAsync(() => late.ChunksOf(sent.AssistantMessageId).Count(c => c.Sequence > streaming.LastSequence) >= 5, Wait.Default, "no live chunks after the snapshot");
        await sender.Hub.CancelGeneration(sent.AssistantMessageId);
        var finished = await late.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal(MessageStatus.Streaming, streaming.Status);
        Assert.InRange(streaming.LastSequence!.Value, 8, finished.LastSequence - 1);
        var live = late.ChunksOf(sent.AssistantMessageId).Where(c => c.Sequence > streaming.LastSequence).ToList();
        Assert.Equal(Enumerable.Range((int)streaming.LastSequence + 1, (int)(finished.LastSequence - streaming.LastSequence)).Select(i => (long)i), live.Select(c => c.Sequence));
        Assert.Equal(finished.Content, streaming.Content + string.Concat(live.Select(c => c.Delta)));
    }

    [Fact]
    public async Task CancelFromTheOtherInstanceEndsTheAnswerCancelledWithItsPartialTextSaved()
    {
        // Generated on an instance of its own with a long answer, watched on A, cancelled through B.
        var generator = await cluster.LongAnswerHubAsync();
        await using var onA = await cluster.ConnectAsync(cluster.A, "canceller");
        await using var onB = await cluster.ConnectAsync(cluster.B, "canceller");
        await using var sender = await cluster.ConnectAsync(generator.Url, "canceller");
        var conversation = await onA.CreateConversationAsync();
        var sent = await sender.SendAsync(conversation.Id, "stop me");
        await onA.WaitForChunksAsync(sent.AssistantMessageId, 5);

        var stopped = await onB.Hub.CancelGeneration(sent.AssistantMessageId);
        var finished = await onA.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.True(stopped);
        Assert.Equal(MessageStatus.Cancelled, finished.Status);
        Assert.InRange(finished.LastSequence, 5, ChatCluster.LongAnswerTokens - 1);
        StreamAssert.ExactlyOnceInOrder(onA.ChunksOf(sent.AssistantMessageId), finished);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId));
        Assert.False(await onB.Hub.CancelGeneration(sent.AssistantMessageId)); // already ended
    }

    [Fact]
    public async Task SendingTheSameClientMessageIdTwiceReturnsTheSameIdsAndStartsOneAnswer()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "idempotent");
        await using var retry = await cluster.ConnectAsync(cluster.B, "idempotent");
        var conversation = await client.CreateConversationAsync();

        var first = await client.SendAsync(conversation.Id, "only once", "key-1");
        var second = await retry.SendAsync(conversation.Id, "only once", "key-1");
        var finished = await client.WaitForFinishedAsync(first.AssistantMessageId);

        Assert.Equal((first.UserMessageId, first.AssistantMessageId), (second.UserMessageId, second.AssistantMessageId));
        Assert.Single(client.Started, s => s.UserMessageId == first.UserMessageId);
        await using var connection = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = @Id", new { conversation.Id }));
        Assert.Equal(MessageStatus.Completed, finished.Status);
    }
}

/// <summary><see cref="StreamingTests"/> on a Redis Cluster.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class StreamingTestsOnRedisCluster(ChatOnRedisCluster cluster) : StreamingTests(cluster);
