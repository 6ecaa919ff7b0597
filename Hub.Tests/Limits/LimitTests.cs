using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Hub.Tests.Limits;

/// <summary>Per-user limits hold across instances (the counters are in Redis), refuse clearly and save nothing.</summary>
[Collection(ClusterCollection.Name)]
public partial class LimitTests(ChatCluster cluster, ClassHubs shared) : IClassFixture<ClassHubs>
{
    private const int PerMinute = 4;
    private const int Concurrent = 2;
    private const int SendCalls = 6;

    [Fact]
    public async Task AUserMayRunOnlyMaxConcurrentGenerationsPerUserAcrossBothInstances()
    {
        var (x, y) = await PairAsync();
        await using var onX = await cluster.ConnectAsync(x.Url, "busy-bee");
        await using var onY = await cluster.ConnectAsync(y.Url, "busy-bee");
        var conversation = await onX.CreateConversationAsync();
        var first = await onX.SendAsync(conversation.Id, "one", clientMessageId: "first");
        var second = await onY.SendAsync(conversation.Id, "two");

        var refused = await Assert.ThrowsAsync<HubException>(() => onX.SendAsync(conversation.Id, "three"));
        var retry = await onY.SendAsync(conversation.Id, "one", clientMessageId: "first"); // a retry is not a new answer
        await using var other = await cluster.ConnectAsync(y.Url, "bystander-limits");
        var othersConversation = await other.CreateConversationAsync();
        var others = await other.SendAsync(othersConversation.Id, "mine runs");

        Assert.Equal(2, RetryAfterSeconds(refused.Message));
        Assert.Contains($"at most {Concurrent} answers may run at once", refused.Message, StringComparison.Ordinal);
        Assert.Equal(first, retry);
        Assert.Equal(4, await MessageCountAsync(conversation.Id)); // the refused send saved nothing

        await onX.Hub.CancelGeneration(second.AssistantMessageId);
        await onX.WaitForFinishedAsync(second.AssistantMessageId);
        var third = await onX.SendAsync(conversation.Id, "three, now that one ended");
        await onX.Hub.CancelGeneration(first.AssistantMessageId);
        await onX.Hub.CancelGeneration(third.AssistantMessageId);
        await other.Hub.CancelGeneration(others.AssistantMessageId); // a 100-s answer: it would outlive the test
        await onX.WaitForFinishedAsync(third.AssistantMessageId);
    }

    [Fact]
    public async Task AUserMaySendOnlyMessagesPerMinutePerUserAcrossBothInstances()
    {
        var (x, y) = await PairAsync();
        await using var onX = await cluster.ConnectAsync(x.Url, "chatterbox");
        await using var onY = await cluster.ConnectAsync(y.Url, "chatterbox");
        var conversation = await onX.CreateConversationAsync();
        for (var i = 0; i < PerMinute; i++)
        {
            var client = i % 2 == 0 ? onX : onY;
            var sent = await client.SendAsync(conversation.Id, $"message {i}");
            await client.Hub.CancelGeneration(sent.AssistantMessageId);
            await onX.WaitForFinishedAsync(sent.AssistantMessageId); // ended: only the per-minute limit is left
        }

        var refused = await Assert.ThrowsAsync<HubException>(() => onY.SendAsync(conversation.Id, "one too many"));

        Assert.Contains($"at most {PerMinute} messages per minute", refused.Message, StringComparison.Ordinal);
        Assert.InRange(RetryAfterSeconds(refused.Message), 30, 60); // the oldest send leaves the window within a minute
        Assert.DoesNotContain("   at ", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2 * PerMinute, await MessageCountAsync(conversation.Id));
    }

    [Fact]
    public async Task SendsToConversationsAndMessagesThatAreNotTheCallersCountAgainstTheSendCallLimit()
    {
        var (x, y) = await PairAsync(strict: true);
        await using var prober = await cluster.ConnectAsync(x.Url, "send-prober");
        await using var onY = await cluster.ConnectAsync(y.Url, "send-prober");
        await using var victim = await cluster.ConnectAsync(y.Url, "send-prober-victim");
        var theirs = await victim.CreateConversationAsync();
        var theirAnswer = await victim.SendAsync(theirs.Id, "mine");
        await victim.Hub.CancelGeneration(theirAnswer.AssistantMessageId);

        // Before: refused sends were never counted — a loop of them was an unlimited stream of Redis and Postgres work.
        // Now each call counts before it runs, on every instance, whatever it names.
        var errors = new List<string>();
        for (var i = 0; i < SendCalls + 4; i++)
        {
            Func<Task> call = (i % 4) switch
            {
                0 => () => prober.SendAsync(Guid.NewGuid(), "probe"),
                1 => () => onY.SendAsync(theirs.Id, "probe"),
                2 => () => prober.Hub.RegenerateAnswer(new RegenerateAnswerRequest(theirAnswer.AssistantMessageId)),
                _ => () => onY.Hub.EditMessage(new EditMessageRequest(theirAnswer.UserMessageId, "probe")),
            };
            errors.Add((await Assert.ThrowsAsync<HubException>(call)).Message);
        }

        Assert.All(errors.Take(SendCalls), e => Assert.DoesNotContain("rate limited", e, StringComparison.Ordinal));
        Assert.All(errors.Skip(SendCalls), e => Assert.Contains($"at most {SendCalls} send calls per minute", e, StringComparison.Ordinal));
        Assert.InRange(RetryAfterSeconds(errors[^1]), 1, 60);
        Assert.Equal(2, await MessageCountAsync(theirs.Id)); // nothing was saved in the victim's conversation
    }

    [Fact]
    public async Task AConversationHoldsAtMostMaxMessagesPerConversation()
    {
        var (x, y) = await PairAsync(strict: true);
        await using var onX = await cluster.ConnectAsync(x.Url, "deep-diver");
        await using var onY = await cluster.ConnectAsync(y.Url, "deep-diver");
        var conversation = await onX.CreateConversationAsync();
        var first = await onX.SendAsync(conversation.Id, "one");
        await onX.Hub.CancelGeneration(first.AssistantMessageId);
        await onX.WaitForFinishedAsync(first.AssistantMessageId);
        var second = await onY.SendAsync(conversation.Id, "two");
        await onY.Hub.CancelGeneration(second.AssistantMessageId);
        await onY.WaitForFinishedAsync(second.AssistantMessageId);

        // Four messages: the limit (strict pair). A send, a regenerate and an edit would each add two more.
        var refusals = new[]
        {
            await Assert.ThrowsAsync<HubException>(() => onX.SendAsync(conversation.Id, "three")),
            await Assert.ThrowsAsync<HubException>(() => onY.Hub.RegenerateAnswer(new RegenerateAnswerRequest(second.AssistantMessageId))),
            await Assert.ThrowsAsync<HubException>(() => onX.Hub.EditMessage(new EditMessageRequest(second.UserMessageId, "two, edited"))),
        };

        Assert.All(refusals, r => Assert.EndsWith("conversation is full: at most 4 messages; start a new conversation", r.Message, StringComparison.Ordinal));
        Assert.Equal(4, await MessageCountAsync(conversation.Id));
        var fresh = await onY.CreateConversationAsync();
        await onY.SendAsync(fresh.Id, "a new conversation is fine"); // (its answer runs on: the read limit is 4 here)
    }

    [Fact]
    public async Task SendsRacingForTheLastRoomOfAConversationOnBothInstancesSaveOnlyOne()
    {
        var (x, y) = await PairAsync(strict: true);
        await Task.WhenAll(Enumerable.Range(0, 2).Select(i => RaceForTheLastRoomAsync(x, y, $"last-room-{i}")));
    }

    /// <summary>Two messages, room for one more exchange (strict pair: 4): two sends at once, one on each instance.</summary>
    private async Task RaceForTheLastRoomAsync(HubInstance x, HubInstance y, string user)
    {
        await using var onX = await cluster.ConnectAsync(x.Url, user);
        await using var onY = await cluster.ConnectAsync(y.Url, user);
        var conversation = await onX.CreateConversationAsync();
        var first = await onX.SendAsync(conversation.Id, "one");
        await onX.Hub.CancelGeneration(first.AssistantMessageId);
        await onX.WaitForFinishedAsync(first.AssistantMessageId);

        var outcomes = await Task.WhenAll(new[] { onX, onY }.Select(async client =>
        {
            try
            {
                return (Sent: await client.SendAsync(conversation.Id, "two"), Error: (string?)null);
            }
            catch (HubException e)
            {
                return (Sent: (SendMessageResult?)null, Error: e.Message);
            }
        }));

        Assert.Equal(4, await MessageCountAsync(conversation.Id));
        var saved = Assert.Single(outcomes, o => o.Sent is not null).Sent!;
        Assert.EndsWith("conversation is full: at most 4 messages; start a new conversation", Assert.Single(outcomes, o => o.Error is not null).Error);
        await onX.Hub.CancelGeneration(saved.AssistantMessageId);
        await onX.WaitForFinishedAsync(saved.AssistantMessageId);
    }

    [Fact]
    public async Task OneClientMessageIdReusedInManyConversationsIsCountedAsManySends()
    {
        var (x, y) = await PairAsync();
        await using var onX = await cluster.ConnectAsync(x.Url, "key-reuser");
        await using var onY = await cluster.ConnectAsync(y.Url, "key-reuser");
        var conversations = new[] { await onX.CreateConversationAsync(), await onX.CreateConversationAsync(), await onX.CreateConversationAsync() };

        var first = await onX.SendAsync(conversations[0].Id, "one", clientMessageId: "same-key");
        var second = await onY.SendAsync(conversations[1].Id, "two", clientMessageId: "same-key");
        var refused = await Assert.ThrowsAsync<HubException>(() => onX.SendAsync(conversations[2].Id, "three", clientMessageId: "same-key"));

        Assert.Contains($"at most {Concurrent} answers may run at once", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await MessageCountAsync(conversations[2].Id));
        foreach (var sent in new[] { first, second })
        {
            await onX.Hub.CancelGeneration(sent.AssistantMessageId);
            await onX.WaitForFinishedAsync(sent.AssistantMessageId);
        }
    }

    [Fact]
    public async Task ARetryTheDatabaseDoesNotKnowIsANewSendAndIsAdmittedInFull()
    {
        var (x, _) = await PairAsync();
        await using var onX = await cluster.ConnectAsync(x.Url, "ghost-retry");
        var conversation = await onX.CreateConversationAsync();
        var running = new[] { await onX.SendAsync(conversation.Id, "one", "a"), await onX.SendAsync(conversation.Id, "two", "b") };
        // An earlier attempt with key "ghost" was admitted, then its instance died before saving anything (its window
        // entry as this version writes it, and as the version before wrote it, without the conversation).
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await cluster.RedisClient.GetDatabase().SortedSetAddAsync(
            Worker.Redis.RedisKeys.UserSends("ghost-retry"), [new($"c:{conversation.Id:N}:ghost", now), new("c:ghost", now)]);

        var refused = await Assert.ThrowsAsync<HubException>(() => onX.SendAsync(conversation.Id, "three", "ghost"));

        Assert.Contains(ChatErrors.RateLimitedPrefix, refused.Message, StringComparison.Ordinal); // counted like any new send, not waved through
        Assert.Equal(4, await MessageCountAsync(conversation.Id));
        foreach (var sent in running)
        {
            await onX.Hub.CancelGeneration(sent.AssistantMessageId);
            await onX.WaitForFinishedAsync(sent.AssistantMessageId);
        }
    }

    [Fact]
    public async Task CreatingConversationsAndReadingAreLimitedPerUserAcrossBothInstances()
    {
        var (x, y) = await PairAsync(strict: true);
        await using var onX = await cluster.ConnectAsync(x.Url, "hoarder");
        await using var onY = await cluster.ConnectAsync(y.Url, "hoarder");
        await using var other = await cluster.ConnectAsync(y.Url, "hoarder-neighbour");

        await onX.CreateConversationAsync();
        await onY.CreateConversationAsync();
        await onX.CreateConversationAsync();
        var tooManyConversations = await Assert.ThrowsAsync<HubException>(() => onY.CreateConversationAsync());
        for (var i = 0; i < 4; i++)
        {
            await (i % 2 == 0 ? onX : onY).Hub.ListConversations();
        }

        var tooManyReads = await Assert.ThrowsAsync<HubException>(() => onX.Hub.ListConversations());
        await other.CreateConversationAsync(); // another user is not affected

        Assert.Contains("at most 3 conversations created per minute", tooManyConversations.Message, StringComparison.Ordinal);
        Assert.InRange(RetryAfterSeconds(tooManyConversations.Message), 1, 60);
        Assert.Contains("at most 4 reads per minute", tooManyReads.Message, StringComparison.Ordinal);
        Assert.Single(await other.Hub.ListConversations());
    }

    [Fact]
    public async Task RestRoutesAreLimitedPerUserWith429AndRetryAfter()
    {
        var (x, _) = await PairAsync(strict: true);
        using var http = new HttpClient();
        var token = await cluster.TokenAsync("rest-heavy");
        var others = await cluster.TokenAsync("rest-light");

        var statuses = new List<System.Net.HttpStatusCode>();
        System.Net.Http.Headers.RetryConditionHeaderValue? retryAfter = null;
        for (var i = 0; i < 4; i++)
        {
            using var response = await GetAsync(http, $"{x.Url}{ChatHubPaths.Conversations}", token);
            statuses.Add(response.StatusCode);
            retryAfter = response.Headers.RetryAfter ?? retryAfter;
        }

        using var neighbour = await GetAsync(http, $"{x.Url}{ChatHubPaths.Conversations}", others);

        Assert.Equal([System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.TooManyRequests], statuses);
        Assert.InRange(retryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Equal(System.Net.HttpStatusCode.OK, neighbour.StatusCode);
    }

    [Fact]
    public async Task TheDevTokenEndpointIsLimitedPerClientAddress()
    {
        var (x, _) = await PairAsync(strict: true);
        using var http = new HttpClient();

        var statuses = new List<System.Net.HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await http.PostAsJsonAsync($"{x.Url}{ChatHubPaths.DevToken}", new DevTokenRequest($"minter{i}"));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.OK, System.Net.HttpStatusCode.TooManyRequests], statuses);
    }

    private static Task<HttpResponseMessage> GetAsync(HttpClient http, string url, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }

    /// <summary>
    /// Two instances with small limits and a slow model (answers run until cancelled), shared by this class's tests
    /// (each its own users); <paramref name="strict"/> adds small call, REST and dev-token limits (the tests of those).
    /// </summary>
    private async Task<(HubInstance X, HubInstance Y)> PairAsync(bool strict = false)
    {
        var settings = new Dictionary<string, string>
        {
            ["Chat:MessagesPerMinutePerUser"] = PerMinute.ToString(CultureInfo.InvariantCulture),
            ["Chat:MaxConcurrentGenerationsPerUser"] = Concurrent.ToString(CultureInfo.InvariantCulture),
            ["Chat:Model:Simulated:TokensPerSecond"] = "10",
            ["Chat:Model:Simulated:ResponseTokens"] = "1000",
        };
        if (strict)
        {
            settings["Chat:ConversationsPerMinutePerUser"] = "3";
            settings["Chat:ReadsPerMinutePerUser"] = "4";
            settings["Chat:SendCallsPerMinutePerUser"] = SendCalls.ToString(CultureInfo.InvariantCulture);
            settings["Chat:MaxMessagesPerConversation"] = "4";
            settings["Chat:RestRequestsPerMinutePerUser"] = "3";
            settings["Auth:DevTokensPerMinute"] = "2";
        }

        var hubs = await shared.GetAsync(cluster, settings);
        return (hubs[0], hubs[1]);
    }

    private static int RetryAfterSeconds(string error)
    {
        var match = RetryAfter().Match(error);
        Assert.True(match.Success, $"not a rate-limit error: {error}");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"rate limited, retry after (\d+) s: ")]
    private static partial Regex RetryAfter();

    private async Task<int> MessageCountAsync(Guid conversationId)
    {
        await using var connection = await cluster.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM messages WHERE conversation_id = @conversationId", new { conversationId });
    }
}

/// <summary><see cref="LimitTests"/> on a Redis Cluster.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class LimitTestsOnRedisCluster(ChatOnRedisCluster cluster, ClassHubs shared) : LimitTests(cluster, shared);
