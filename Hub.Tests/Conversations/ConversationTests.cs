using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using ChatStreaming.Worker.Redis;
using Dapper;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Hub.Tests.Conversations;

/// <summary>Managing conversations across two instances: the list live in every tab, rename, delete, paging, export.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ConversationTests(ChatCluster cluster)
{
    [Fact]
    public async Task CreateRenameAndDeleteReachTheOwnersOtherConnectionOnTheOtherInstanceOnly()
    {
        await using var tabA = await cluster.ConnectAsync(cluster.A, "list-owner");
        await using var tabB = await cluster.ConnectAsync(cluster.B, "list-owner");
        await using var stranger = await cluster.ConnectAsync(cluster.B, "list-stranger");

        var conversation = await tabA.CreateConversationAsync("first title");
        await tabB.WaitForListEventAsync(ChatHubMethods.ConversationCreated, conversation.Id);
        var renamed = await tabA.Hub.UpdateConversation(new UpdateConversationRequest(conversation.Id, "  better title  "));
        await tabB.WaitForListEventAsync(ChatHubMethods.ConversationUpdated, conversation.Id);
        var listed = await tabB.Hub.ListConversations();
        Assert.True(await tabB.Hub.DeleteConversation(conversation.Id));
        await tabA.WaitForListEventAsync(ChatHubMethods.ConversationDeleted, conversation.Id);
        await tabB.WaitForListEventAsync(ChatHubMethods.ConversationDeleted, conversation.Id); // its own too: a user's events come through the backplane, after the call's result

        Assert.Equal("better title", renamed.Title);
        Assert.Equal(conversation.UpdatedAt, renamed.UpdatedAt); // a rename is not activity: the list keeps its order
        Assert.Equal("better title", listed.Single(c => c.Id == conversation.Id).Title);
        Assert.Equal(
            [(ChatHubMethods.ConversationCreated, "first title"), (ChatHubMethods.ConversationUpdated, "better title"), (ChatHubMethods.ConversationDeleted, null)],
            tabB.ListEvents.Where(e => e.ConversationId == conversation.Id).Select(e => (e.Event, e.Title)));
        Assert.Empty(stranger.ListEvents);
        var tooLong = await Assert.ThrowsAsync<HubException>(() => tabA.Hub.UpdateConversation(new UpdateConversationRequest(Guid.NewGuid(), new string('x', 201))));
        Assert.EndsWith("title must be at most 200 characters", tooLong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletingAConversationDuringAnAnswerCancelsItAndEveryIdBecomesUnknown()
    {
        var generator = await cluster.LongAnswerHubAsync();
        await using var owner = await cluster.ConnectAsync(generator.Url, "deleter");
        await using var other = await cluster.ConnectAsync(cluster.B, "deleter");
        var conversation = await owner.CreateConversationAsync("doomed");
        var done = await owner.SendAsync(conversation.Id, "finished before");
        await owner.Hub.CancelGeneration(done.AssistantMessageId);
        await owner.WaitForFinishedAsync(done.AssistantMessageId);
        var running = await owner.SendAsync(conversation.Id, "still streaming");
        await owner.WaitForChunksAsync(running.AssistantMessageId, 2);

        Assert.True(await other.Hub.DeleteConversation(conversation.Id));

        var finished = await owner.WaitForFinishedAsync(running.AssistantMessageId);
        Assert.Equal(MessageStatus.Cancelled, finished.Status);
        var chunksBefore = owner.ChunksOf(running.AssistantMessageId).Count;
        foreach (var client in new[] { owner, other })
        {
            await Unknown(ChatErrors.ConversationNotFound, () => client.Hub.JoinConversation(conversation.Id));
            await Unknown(ChatErrors.ConversationNotFound, () => client.Hub.DeleteConversation(conversation.Id));
            await Unknown(ChatErrors.ConversationNotFound, () => client.SendAsync(conversation.Id, "more"));
            foreach (var messageId in new[] { done.AssistantMessageId, running.AssistantMessageId })
            {
                await Unknown(ChatErrors.MessageNotFound, () => client.Hub.GetChunks(messageId, 0L));
                await Unknown(ChatErrors.MessageNotFound, () => client.Hub.CancelGeneration(messageId));
                await Unknown(ChatErrors.MessageNotFound, () => client.Hub.RegenerateAnswer(new RegenerateAnswerRequest(messageId)));
            }
        }

        using var http = await HttpAsync("deleter");
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}/{conversation.Id}/messages")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}/{conversation.Id}/export")).StatusCode);
        await using var db = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = @Id", new { conversation.Id }));
        var redis = cluster.RedisClient.GetDatabase();
        Assert.False(await redis.KeyExistsAsync(RedisKeys.Chunks(conversation.Id, done.AssistantMessageId)));
        Assert.False(await redis.KeyExistsAsync(RedisKeys.Generation(conversation.Id, done.AssistantMessageId)));
        Assert.False(await redis.KeyExistsAsync(RedisKeys.Chunks(conversation.Id, running.AssistantMessageId)));
        Assert.False(await redis.KeyExistsAsync(RedisKeys.AnswerConversation(done.AssistantMessageId)));
        Assert.Equal(chunksBefore, owner.ChunksOf(running.AssistantMessageId).Count); // nothing streamed after the end
    }

    [Fact]
    public async Task GetConversationsPagesEveryConversationOnceNewestFirstOverTheHubAndRest()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "pager");
        var created = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await client.CreateConversationAsync($"c{i}")).Id);
        }

        var paged = new List<Guid>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await client.Hub.GetConversations(new ConversationsRequest(cursor, 2));
            paged.AddRange(page.Conversations.Select(c => c.Id));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        using var http = await HttpAsync("pager");
        using var first = await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}?limit=3");
        var restFirst = (await first.Content.ReadFromJsonAsync<List<Conversation>>())!;
        var next = first.Headers.GetValues("X-Next-Cursor").Single();
        using var second = await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}?limit=3&before={Uri.EscapeDataString(next)}");
        var restSecond = (await second.Content.ReadFromJsonAsync<List<Conversation>>())!;
        using var bad = await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}?before=nonsense");

        Assert.Equal(Enumerable.Reverse(created), paged);
        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(created), restFirst.Concat(restSecond).Select(c => c.Id));
        Assert.False(second.Headers.Contains("X-Next-Cursor"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var refused = await Assert.ThrowsAsync<HubException>(() => client.Hub.GetConversations(new ConversationsRequest("nonsense")));
        Assert.EndsWith("before must be the nextCursor of an earlier page", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportGivesTheActiveBranchWithStatusesAsMarkdownAndJson()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "exporter");
        var conversation = await client.CreateConversationAsync("Trip *plans*");
        var sent = await client.SendAsync(conversation.Id, "where to go");
        var first = await client.WaitForFinishedAsync(sent.AssistantMessageId);
        var again = await client.Hub.RegenerateAnswer(new RegenerateAnswerRequest(sent.AssistantMessageId));
        await client.Hub.CancelGeneration(again.AssistantMessageId);
        var second = await client.WaitForFinishedAsync(again.AssistantMessageId);

        using var http = await HttpAsync("exporter");
        using var download = await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}/{conversation.Id}/export?format=markdown", HttpCompletionOption.ResponseHeadersRead);
        var streamed = download.Headers.TransferEncodingChunked;
        var markdown = await download.Content.ReadAsStringAsync();
        var json = (await http.GetFromJsonAsync<ConversationExport>($"{cluster.B}{ChatHubPaths.Conversations}/{conversation.Id}/export?format=json"))!;
        using var bad = await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}/{conversation.Id}/export?format=pdf");

        Assert.True(streamed); // written to the response as produced (no Content-Length), not built whole first
        Assert.Equal($"conversation-{conversation.Id:N}.md", download.Content.Headers.ContentDisposition?.FileName);
        Assert.StartsWith("# Trip *plans*", markdown, StringComparison.Ordinal);
        Assert.Contains("## You, ", markdown, StringComparison.Ordinal);
        Assert.Contains("where to go", markdown, StringComparison.Ordinal);
        Assert.Contains(second.Status == MessageStatus.Cancelled ? "## Assistant (cancelled)" : "## Assistant, ", markdown, StringComparison.Ordinal);
        Assert.Equal([sent.UserMessageId, again.AssistantMessageId], json.Messages.Select(m => m.Id)); // the active branch only
        Assert.Equal(second.Status, json.Messages[1].Status);
        Assert.Equal(second.Content, json.Messages[1].Content);
        Assert.Equal([sent.AssistantMessageId, again.AssistantMessageId], json.Messages[1].SiblingIds);
        Assert.Equal(MessageStatus.Completed, first.Status);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    private async Task<HttpClient> HttpAsync(string user)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await cluster.TokenAsync(user));
        return http;
    }

    private static async Task Unknown(string expected, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<HubException>(call);
        Assert.EndsWith(expected, error.Message, StringComparison.Ordinal);
    }
}
