using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Hub.Tests.Conversations;

/// <summary>Reads and fan-out are bounded: snapshots and pages of messages, pages of chunks, groups per connection, connections per user.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PagingTests(ChatCluster cluster, ClassHubs shared) : IClassFixture<ClassHubs>
{
    [Fact]
    public async Task AJoinReturnsTheNewest50MessagesAndPagingBackReturnsEveryOtherOnceInOrder()
    {
        var (token, conversationId, expected) = await cluster.SeedConversationAsync("long-history", pairs: 65);
        await using var client = await ChatTestClient.ConnectAsync(cluster.B, token);

        var snapshot = await client.Hub.JoinConversation(conversationId);
        var all = snapshot.Messages.ToList();
        var hasMore = snapshot.HasMoreBefore;
        var pages = 0;
        while (hasMore)
        {
            var page = await client.Hub.GetMessages(conversationId, all[0].Position, 20);
            Assert.InRange(page.Messages.Count, 1, 20);
            all.InsertRange(0, page.Messages);
            hasMore = page.HasMoreBefore;
            pages++;
        }

        Assert.Equal(50, snapshot.Messages.Count);
        Assert.True(snapshot.HasMoreBefore);
        Assert.Equal(expected.TakeLast(50), snapshot.Messages.Select(m => m.Content));
        Assert.Equal(expected, all.Select(m => m.Content)); // every message once, oldest first
        Assert.Equal(4, pages); // 80 older messages, 20 a page
        var tooMany = await Assert.ThrowsAsync<HubException>(() => client.Hub.GetMessages(conversationId, null, 51));
        Assert.EndsWith("limit must be between 1 and 50", tooMany.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestPagesMessagesBackwardsWithBeforeAndLimit()
    {
        var (token, conversationId, expected) = await cluster.SeedConversationAsync("rest-history", pairs: 30);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var url = $"{cluster.A}{ChatHubPaths.Conversations}/{conversationId}/messages";

        using var newest = await http.GetAsync(url);
        var first = (await newest.Content.ReadFromJsonAsync<List<Message>>())!;
        using var older = await http.GetAsync($"{url}?before={first[0].Position}&limit=25");
        var second = (await older.Content.ReadFromJsonAsync<List<Message>>())!;
        using var refused = await http.GetAsync($"{url}?limit=0");

        Assert.Equal(expected.TakeLast(50), first.Select(m => m.Content));
        Assert.Equal("true", newest.Headers.GetValues("X-Has-More-Before").Single());
        Assert.Equal(expected.Take(10), second.Select(m => m.Content));
        Assert.Equal("false", older.Headers.GetValues("X-Has-More-Before").Single());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task GetChunksReturnsAtMostMaxChunksPerReadAndPagingAfterTheLastOneReadsTheRest()
    {
        var hub = (await shared.GetAsync(cluster, SmallLimits))[0];
        await using var client = await cluster.ConnectAsync(hub.Url, "chunk-pager");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "page my chunks");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);

        var pages = new List<IReadOnlyList<Chunk>>();
        long after = 0;
        while (true)
        {
            var page = await client.Hub.GetChunks(sent.AssistantMessageId, after);
            if (page.Count == 0)
            {
                break;
            }

            pages.Add(page);
            after = page[^1].Sequence;
        }

        Assert.Equal((int)Math.Ceiling(finished.LastSequence / 7.0), pages.Count); // full pages of 7, then the rest
        Assert.All(pages, p => Assert.InRange(p.Count, 1, 7));
        StreamAssert.ExactlyOnceInOrder([.. pages.SelectMany(p => p)], finished);
    }

    [Fact]
    public async Task AConnectionMayBeInAtMostMaxGroupsPerConnectionConversations()
    {
        var hub = (await shared.GetAsync(cluster, SmallLimits))[0];
        await using var client = await cluster.ConnectAsync(hub.Url, "group-hoarder");
        var first = await client.CreateConversationAsync();
        await client.CreateConversationAsync();

        var third = await Assert.ThrowsAsync<HubException>(() => client.CreateConversationAsync());
        await using var other = await cluster.ConnectAsync(cluster.A, "group-hoarder");
        var elsewhere = await other.CreateConversationAsync();
        var send = await Assert.ThrowsAsync<HubException>(() => client.SendAsync(elsewhere.Id, "one group too many"));
        var join = await Assert.ThrowsAsync<HubException>(() => client.Hub.JoinConversation(elsewhere.Id));
        var branched = await other.CreateConversationAsync();
        var sentElsewhere = await other.SendAsync(branched.Id, "a question");
        await other.WaitForFinishedAsync(sentElsewhere.AssistantMessageId);
        var regenerated = await other.Hub.RegenerateAnswer(new RegenerateAnswerRequest(sentElsewhere.AssistantMessageId, null));
        await other.WaitForFinishedAsync(regenerated.AssistantMessageId);
        var select = await Assert.ThrowsAsync<HubException>(() => client.Hub.SelectBranch(new SelectBranchRequest(branched.Id, sentElsewhere.AssistantMessageId)));
        var branch = await other.Hub.JoinConversation(branched.Id); // before: the refused select had changed the branch
        Assert.Equal(regenerated.AssistantMessageId, branch.Messages[^1].Id);
        await client.Hub.LeaveConversation(first.Id);
        await client.Hub.JoinConversation(elsewhere.Id); // room again

        Assert.All([third, send, join, select], e => Assert.EndsWith("too many conversations open on this connection (at most 2): leave one first (LeaveConversation)", e.Message, StringComparison.Ordinal));
        await using var db = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = @Id", new { elsewhere.Id })); // refused before saving
    }

    [Fact]
    public async Task AConversationDeletedFromAnotherTabIsStillLeftAndItsPlaceFreed()
    {
        // A tab holds two conversations (the most, here); another tab of its user deletes both.
        var hub = (await shared.GetAsync(cluster, SmallLimits))[0];
        await using var client = await cluster.ConnectAsync(hub.Url, "deleted-elsewhere");
        var (first, second) = (await client.CreateConversationAsync(), await client.CreateConversationAsync());
        await using var other = await cluster.ConnectAsync(cluster.A, "deleted-elsewhere");
        Assert.True(await other.Hub.DeleteConversation(first.Id));
        Assert.True(await other.Hub.DeleteConversation(second.Id));

        // Before: both calls were refused ("conversation not found") before leaving, so the tab stayed in both groups
        // (and their Redis subscriptions) and could open nothing else until it reconnected.
        await client.Hub.LeaveConversation(first.Id);
        var late = await Assert.ThrowsAsync<HubException>(() => client.Hub.DeleteConversation(second.Id)); // a delete that lost the race
        Assert.EndsWith("conversation not found", late.Message, StringComparison.Ordinal);
        await client.CreateConversationAsync();
        await client.CreateConversationAsync();

        // Leaving a conversation the connection never joined is still checked: not the caller's, not found.
        var stranger = await Assert.ThrowsAsync<HubException>(() => client.Hub.LeaveConversation(Guid.NewGuid()));
        Assert.EndsWith("conversation not found", stranger.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUserMayHaveAtMostMaxConnectionsPerUserOpenAcrossInstances()
    {
        var hubs = await shared.GetAsync(cluster, SmallLimits);
        var (x, y) = (hubs[0], hubs[1]);
        var token = await cluster.TokenAsync("many-tabs");
        await using var one = await ChatTestClient.ConnectAsync(x.Url, token);
        await using var two = await ChatTestClient.ConnectAsync(y.Url, token);
        await one.CreateConversationAsync(); // both are served
        await two.CreateConversationAsync();

        var three = await ChatTestClient.ConnectAsync(x.Url, token);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        three.Connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        if (three.Connection.State == HubConnectionState.Disconnected)
        {
            closed.TrySetResult();
        }

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await three.DisposeAsync();
        await one.DisposeAsync();
        var counted = cluster.RedisClient.GetDatabase();
        await Wait.UntilAsync(async () => await counted.SortedSetLengthAsync(Worker.Redis.RedisKeys.UserConnections("many-tabs")) == 1,
            Wait.Default, "the closed connection still counted"); // its instance removes it once it has seen the close
        await using var four = await ChatTestClient.ConnectAsync(y.Url, token); // a place again
        await four.CreateConversationAsync();
        await using var neighbour = await cluster.ConnectAsync(x.Url, "few-tabs"); // others are not affected
        await neighbour.CreateConversationAsync();
    }

    [Fact]
    public async Task ConnectionsThatRedisForgotCountAgainWithinAThirdOfALease()
    {
        var hubs = await shared.GetAsync(cluster, SmallLimits);
        var token = await cluster.TokenAsync("forgotten-tabs");
        await using var one = await ChatTestClient.ConnectAsync(hubs[0].Url, token);
        await using var two = await ChatTestClient.ConnectAsync(hubs[1].Url, token);
        var counted = cluster.RedisClient.GetDatabase();
        var key = Worker.Redis.RedisKeys.UserConnections("forgotten-tabs");
        await Wait.UntilAsync(async () => await counted.SortedSetLengthAsync(key) == 2, Wait.Default, "the connections were not counted");

        await counted.KeyDeleteAsync(key); // what a Redis restart without persistence does to the counts

        // Before: renewal only extended entries still there, so these two never counted again.
        await Wait.UntilAsync(async () => await counted.SortedSetLengthAsync(key) == 2, Wait.Default, "the renewal did not count the connections again");
        var three = await ChatTestClient.ConnectAsync(hubs[0].Url, token);
        await Wait.UntilAsync(() => three.Connection.State == HubConnectionState.Disconnected, Wait.Default, "a third connection was served");
        await three.DisposeAsync();
    }

    [Fact]
    public async Task AUsersLapsedRunningAnswersAreDroppedEvenWithoutAConcurrencyLimit()
    {
        var hubs = await shared.GetAsync(cluster, SmallLimits); // Chat:MaxConcurrentGenerationsPerUser = 0: admission trims nothing
        var active = Worker.Redis.RedisKeys.UserActive("lapsed-answers");
        var db = cluster.RedisClient.GetDatabase();
        await db.SortedSetAddAsync(active, "an answer whose instance died long ago", 1);
        await using var client = await cluster.ConnectAsync(hubs[0].Url, "lapsed-answers");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "list me");
        await client.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Null(await db.SortedSetScoreAsync(active, "an answer whose instance died long ago")); // before: it stayed for good
        Assert.Equal(0, await db.SortedSetLengthAsync(active)); // and the ended answer left
    }

    /// <summary>Two instances with small paging and connection limits, shared by the tests of those limits (each its own users).</summary>
    private static readonly Dictionary<string, string> SmallLimits = new()
    {
        ["Chat:MaxChunksPerRead"] = "7",
        ["Chat:MaxGroupsPerConnection"] = "2",
        ["Chat:MaxConnectionsPerUser"] = "2",
        ["Chat:MaxConcurrentGenerationsPerUser"] = "0",
    };
}
