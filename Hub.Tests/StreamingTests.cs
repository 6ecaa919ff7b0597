using ChatStreaming.Contracts;
using ChatStreaming.Hub.Tests.Infrastructure;
using Dapper;
using Xunit;

namespace ChatStreaming.Hub.Tests;

[Collection(ClusterCollection.Name)]
public sealed class StreamingTests(ChatCluster cluster)
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
        Assert.Equal(ChatCluster.ResponseTokens, finished.LastSequence); // uncoalesced at this rate: one chunk per token
    }

    [Fact]
    public async Task TwoTabsOfOneUserOnDifferentInstancesSeeTheSameAnswerLive()
    {
        await using var tab1 = await cluster.ConnectAsync(cluster.A, "two-tabs");
        await using var tab2 = await cluster.ConnectAsync(cluster.B, "two-tabs");
        var conversation = await tab1.CreateConversationAsync();
        await tab2.InvokeAsync<ConversationSnapshot>(ChatHubMethods.JoinConversation, conversation.Id);

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
        await using var connection = await cluster.Db.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(string Content, string Status, long LastSequence)>(
            "SELECT content, status, last_sequence FROM messages WHERE id = @Id", new { Id = sent.AssistantMessageId });
        Assert.Equal((finished.Content, "completed", finished.LastSequence), row);
        Assert.StartsWith("Simulated what is saved?", row.Content, StringComparison.Ordinal);

        var history = await client.InvokeAsync<ConversationSnapshot>(ChatHubMethods.JoinConversation, conversation.Id);
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

        var all = await other.InvokeAsync<IReadOnlyList<Chunk>>(ChatHubMethods.GetChunks, sent.AssistantMessageId, 0L);
        var tail = await other.InvokeAsync<IReadOnlyList<Chunk>>(ChatHubMethods.GetChunks, sent.AssistantMessageId, 10L);

        Assert.Equal(client.ChunksOf(sent.AssistantMessageId), all);
        Assert.Equal(Enumerable.Range(11, (int)finished.LastSequence - 10).Select(i => (long)i), tail.Select(c => c.Sequence));
        Assert.Empty(await other.InvokeAsync<IReadOnlyList<Chunk>>(ChatHubMethods.GetChunks, sent.AssistantMessageId, finished.LastSequence));
    }

    [Fact]
    public async Task JoiningMidStreamGivesTheTextSoFarThenTheRestLiveWithoutAGap()
    {
        await using var sender = await cluster.ConnectAsync(cluster.A, "mid-stream");
        await using var late = await cluster.ConnectAsync(cluster.B, "mid-stream");
        var conversation = await sender.CreateConversationAsync();
        var sent = await sender.SendAsync(conversation.Id, "join me halfway");
        await sender.WaitForChunksAsync(sent.AssistantMessageId, 8);

        var snapshot = await late.InvokeAsync<ConversationSnapshot>(ChatHubMethods.JoinConversation, conversation.Id);
        var finished = await late.WaitForFinishedAsync(sent.AssistantMessageId);

        var streaming = Assert.Single(snapshot.Messages, m => m.Id == sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Streaming, streaming.Status);
        Assert.InRange(streaming.LastSequence!.Value, 8, finished.LastSequence - 1);
        var live = late.ChunksOf(sent.AssistantMessageId).Where(c => c.Sequence > streaming.LastSequence).ToList();
        Assert.Equal(Enumerable.Range((int)streaming.LastSequence + 1, (int)(finished.LastSequence - streaming.LastSequence)).Select(i => (long)i), live.Select(c => c.Sequence));
        Assert.Equal(finished.Content, streaming.Content + string.Concat(live.Select(c => c.Delta)));
    }

    [Fact]
    public async Task CancelFromTheOtherInstanceEndsTheAnswerCancelledWithItsPartialTextSaved()
    {
        await using var onA = await cluster.ConnectAsync(cluster.A, "canceller");
        await using var onB = await cluster.ConnectAsync(cluster.B, "canceller");
        var conversation = await onA.CreateConversationAsync();
        var sent = await onA.SendAsync(conversation.Id, "stop me");
        await onA.WaitForChunksAsync(sent.AssistantMessageId, 5);

        var stopped = await onB.InvokeAsync<bool>(ChatHubMethods.CancelGeneration, sent.AssistantMessageId);
        var finished = await onA.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(1));

        Assert.True(stopped);
        Assert.Equal(MessageStatus.Cancelled, finished.Status);
        Assert.InRange(finished.LastSequence, 5, ChatCluster.ResponseTokens - 1);
        StreamAssert.ExactlyOnceInOrder(onA.ChunksOf(sent.AssistantMessageId), finished);
        await using var connection = await cluster.Db.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<(string Content, string Status)>(
            "SELECT content, status FROM messages WHERE id = @Id", new { Id = sent.AssistantMessageId });
        Assert.Equal((finished.Content, "cancelled"), row);
        Assert.False(await onB.InvokeAsync<bool>(ChatHubMethods.CancelGeneration, sent.AssistantMessageId)); // already ended
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

        Assert.Equal(first, second);
        Assert.Single(client.Started, s => s.UserMessageId == first.UserMessageId);
        await using var connection = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = @Id", new { conversation.Id }));
        Assert.Equal(MessageStatus.Completed, finished.Status);
    }
}
