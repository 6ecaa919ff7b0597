using Dapper;

namespace ChatStreaming.Hub.Tests.Streaming;

/// <summary>A send never half-fails: once its answer is saved, the answer runs, whatever happens to the announcement or the caller.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SendTests(ChatCluster cluster)
{
    [Fact]
    public async Task ASendWhoseAnnouncementRedisRefusesStillStartsItsAnswerAndSucceeds()
    {
        // A Redis user that may do everything but PUBLISH: publishing MessageAdded on the conversation's channel fails,
        // as when Redis drops the connection between saving the message and announcing it.
        var server = cluster.RedisClient.GetServers().Single();
        await server.ExecuteAsync("ACL", "SETUSER", "no-publish", "reset", "on", ">no-publish-secret", "+@all", "allchannels", "~*");
        var settings = cluster.Settings.ToDictionary();
        settings["ConnectionStrings:Redis"] = $"{cluster.Redis.ConnectionString},user=no-publish,password=no-publish-secret";
        await using var hub = await HubInstance.StartAsync(settings);
        await using var client = await cluster.ConnectAsync(hub.Url, "unannounced");
        var conversation = await client.CreateConversationAsync();

        SendMessageResult sent;
        await server.ExecuteAsync("ACL", "SETUSER", "no-publish", "-publish");
        try
        {
            sent = await client.SendAsync(conversation.Id, "announce me if you can");
        }
        finally
        {
            await server.ExecuteAsync("ACL", "SETUSER", "no-publish", "+publish");
        }

        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(30));
        Assert.Equal(MessageStatus.Streaming, sent.Status);
        Assert.Equal((MessageStatus.Completed, Simulated.Answer("announce me if you can")), (finished.Status, finished.Content));
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId));
        Assert.Contains(hub.Process.Output, l => l.Contains("SendMessage: MessageAdded failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARepeatedSendJoinsTheGroupAndReturnsTheAnswersIdsAndItsStatusNow()
    {
        var generator = await cluster.LongAnswerHubAsync();
        await using var first = await cluster.ConnectAsync(generator.Url, "repeater");
        await using var second = await cluster.ConnectAsync(cluster.B, "repeater"); // lost the first reply: a new connection
        var conversation = await first.CreateConversationAsync();

        var sent = await first.SendAsync(conversation.Id, "say it once", "repeat-key");
        var repeated = await second.SendAsync(conversation.Id, "say it once", "repeat-key");
        await second.WaitForChunksAsync(sent.AssistantMessageId, 3); // it joined the conversation's group
        await second.Hub.CancelGeneration(sent.AssistantMessageId);
        var finished = await second.WaitForFinishedAsync(sent.AssistantMessageId);
        var afterTheEnd = await second.SendAsync(conversation.Id, "say it once", "repeat-key");

        Assert.Equal(sent, repeated);
        Assert.Equal(MessageStatus.Streaming, repeated.Status);
        Assert.Equal((sent.UserMessageId, sent.AssistantMessageId, MessageStatus.Cancelled), (afterTheEnd.UserMessageId, afterTheEnd.AssistantMessageId, afterTheEnd.Status));
        Assert.Equal(MessageStatus.Cancelled, finished.Status);
    }

    [Fact]
    public async Task ClientsThatDisconnectRightAfterSendingLeaveNoAnswerStranded()
    {
        var token = await cluster.TokenAsync("hit-and-run");
        await using var owner = await ChatTestClient.ConnectAsync(cluster.A, token);
        var conversation = await owner.CreateConversationAsync();
        for (var i = 0; i < 10; i++)
        {
            var leaving = await ChatTestClient.ConnectAsync(cluster.B, token);
            var send = leaving.SendAsync(conversation.Id, $"and gone {i}");
            await Task.Delay(i); // the disconnect lands at a different moment of the send each time
            await leaving.DisposeAsync();
            _ = await Task.WhenAny(send); // it may have succeeded or been cut off: either way nothing may be stranded
        }

        // Every answer that was saved runs to its end: none is left streaming for the sweep to call interrupted.
        await using var connection = await cluster.Db.OpenConnectionAsync();
        await Wait.UntilAsync(
            async () => await connection.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM messages WHERE conversation_id = @Id AND status = 'streaming'", new { conversation.Id }) == 0,
            TimeSpan.FromSeconds(30), "an answer was left streaming");
        var statuses = (await connection.QueryAsync<string>(
            "SELECT status FROM messages WHERE conversation_id = @Id AND role = 'assistant'", new { conversation.Id })).ToList();
        Assert.NotEmpty(statuses); // some sends were saved before their client left (else this tested nothing)
        Assert.All(statuses, status => Assert.Equal("completed", status));
    }
}
