using ChatStreaming.FakeOpenAI;
using Dapper;
using ChatStreaming.Worker.Model;
using StackExchange.Redis;

namespace ChatStreaming.Hub.Tests.Models;

/// <summary>
/// The real OpenAI and Azure OpenAI SDKs (through Microsoft.Extensions.AI) against the local server that speaks their
/// streaming wire format. Each test runs for both providers.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ProviderTests(ChatCluster cluster)
{
    private static readonly string[] ProviderNames = ["OpenAI", "AzureOpenAI"];

    public static TheoryData<string> Providers => new(ProviderNames);

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task AStreamedAnswerReachesTheClientChunkByChunkAndIsSavedEqualWithItsUsage(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "streamed");
        await using var _ = client;
        cluster.FakeModel.Enqueue(new FakeReply { Deltas = ["Hel", "lo", " from ", provider, "!"], Delay = TimeSpan.FromMilliseconds(30) });

        var sent = await client.SendAsync(conversation.Id, "say hello");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal(MessageStatus.Completed, finished.Status);
        Assert.Equal($"Hello from {provider}!", finished.Content);
        Assert.InRange(finished.LastSequence, 1, 5); // five deltas; the relay may coalesce some on a busy machine
        StreamAssert.ExactlyOnceInOrder(client.ChunksOf(sent.AssistantMessageId), finished);
        Assert.Equal("stop", finished.FinishReason);
        Assert.Equal(new TokenUsage(11, 5), finished.Usage);
        var saved = await SavedAsync(client, conversation.Id, sent.AssistantMessageId);
        Assert.Equal((finished.Content, MessageStatus.Completed, "stop", new TokenUsage(11, 5)), (saved.Content, saved.Status, saved.FinishReason, saved.Usage));
        var request = cluster.FakeModel.Requests[^1];
        Assert.Equal(provider == "OpenAI" ? "/v1/chat/completions" : "/openai/deployments/fake-deployment/chat/completions", request.Path);
        if (provider == "OpenAI")
        {
            Assert.Equal($"Bearer {ChatCluster.ModelApiKey(provider)}", request.Authorization);
        }
        else
        {
            Assert.Equal(ChatCluster.ModelApiKey(provider), request.ApiKey);
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task TheModelGetsTheSystemPromptAndTheNewestEarlierMessagesWithinTheBudget(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "context");
        await using var _ = client;
        for (var i = 1; i <= 3; i++)
        {
            cluster.FakeModel.Enqueue(new FakeReply { Deltas = [$"answer {i}"] });
            var sent = await client.SendAsync(conversation.Id, $"question {i}");
            await client.WaitForFinishedAsync(sent.AssistantMessageId);
        }

        var messages = cluster.FakeModel.Requests[^1].Messages;

        // MaxContextMessages = 3: the newest three earlier messages, oldest of them first, then the new question.
        Assert.Equal(
            [("system", ChatCluster.ProviderSystemPrompt), ("assistant", "answer 1"), ("user", "question 2"), ("assistant", "answer 2"), ("user", "question 3")],
            messages);
        Assert.Equal(1024, (int?)cluster.FakeModel.Requests[^1].Body?["max_completion_tokens"] ?? (int?)cluster.FakeModel.Requests[^1].Body?["max_tokens"]);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task TheModelSeesOnlyTheActiveBranchAfterAnEditOrARegenerate(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "branches");
        await using var _ = client;
        cluster.FakeModel.Enqueue(new FakeReply { Deltas = ["answer 1"] }, new FakeReply { Deltas = ["answer 2"] }, new FakeReply { Deltas = ["answer 2b"] }, new FakeReply { Deltas = ["answer 2c"] });
        var one = await client.SendAsync(conversation.Id, "question 1");
        await client.WaitForFinishedAsync(one.AssistantMessageId);
        var two = await client.SendAsync(conversation.Id, "question 2");
        await client.WaitForFinishedAsync(two.AssistantMessageId);

        var edited = await client.Hub.EditMessage(new EditMessageRequest(two.UserMessageId, "question 2, edited"));
        await client.WaitForFinishedAsync(edited.AssistantMessageId);
        var regenerated = await client.Hub.RegenerateAnswer(new RegenerateAnswerRequest(edited.AssistantMessageId));
        var finished = await client.WaitForFinishedAsync(regenerated.AssistantMessageId);

        (string, string)[] expected = [("system", ChatCluster.ProviderSystemPrompt), ("user", "question 1"), ("assistant", "answer 1"), ("user", "question 2, edited")];
        Assert.Equal(expected, cluster.FakeModel.Requests[^2].Messages); // the edit: not the question it replaced, nor its answer
        Assert.Equal(expected, cluster.FakeModel.Requests[^1].Messages); // the regenerate: not the answer it replaces
        Assert.Equal("answer 2c", finished.Content);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A429WithRetryAfterIsRetriedAndTheAnswerCompletes(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "throttled");
        await using var _ = client;
        cluster.FakeModel.Enqueue(new FakeReply { Status = 429, RetryAfter = TimeSpan.FromSeconds(1) }, new FakeReply { Deltas = ["after", " the wait"] });

        var sent = await client.SendAsync(conversation.Id, "retry me");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal((MessageStatus.Completed, "after the wait"), (finished.Status, finished.Content));
        var requests = cluster.FakeModel.Requests;
        Assert.Equal(2, requests.Count);
        Assert.True(requests[1].ReceivedAt - requests[0].ReceivedAt >= TimeSpan.FromSeconds(0.9), "Retry-After: 1 was honoured");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task APersistent500EndsFailedWithAClearErrorAfterBoundedRetries(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "broken");
        await using var _ = client;
        cluster.FakeModel.Enqueue(Enumerable.Repeat(new FakeReply { Status = 500, RetryAfter = TimeSpan.Zero }, 3).ToArray());

        var sent = await client.SendAsync(conversation.Id, "fail please");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(20));

        Assert.Equal(MessageStatus.Failed, finished.Status);
        Assert.Equal("model unavailable: HTTP 500 after 2 retries", finished.Error);
        Assert.Equal(3, cluster.FakeModel.Requests.Count); // MaxRetries = 2
        Assert.Equal(MessageStatus.Failed, (await SavedAsync(client, conversation.Id, sent.AssistantMessageId)).Status);
    }

    /// <summary>How a stream is cut after its first two deltas: the connection dropped, or the response ended cleanly without the model's finish.</summary>
    public static TheoryData<string, string> ProvidersAndCuts
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var provider in ProviderNames)
            {
                data.Add(provider, "dropped");
                data.Add(provider, "ended");
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ProvidersAndCuts))]
    public async Task AStreamCutMidAnswerEndsInterruptedWithThePartialTextSavedNeverCompleted(string provider, string cut)
    {
        var (client, conversation) = await StartAsync(provider, cut);
        await using var _ = client;
        var deltas = new[] { "one ", "two ", "three ", "four" };
        cluster.FakeModel.EnqueueFor($"cut {cut}", cut == "dropped" ? new FakeReply { Deltas = deltas, DropAfter = 2 } : new FakeReply { Deltas = deltas, EndAfter = 2 });

        var sent = await client.SendAsync(conversation.Id, $"cut {cut}");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);

        var error = cut == "dropped" ? ModelStreamReader.ConnectionLost : ModelStreamReader.EndedEarly;
        Assert.Equal((MessageStatus.Interrupted, "one two ", error), (finished.Status, finished.Content, finished.Error));
        StreamAssert.ExactlyOnceInOrder(client.ChunksOf(sent.AssistantMessageId), finished);
        var saved = await SavedAsync(client, conversation.Id, sent.AssistantMessageId);
        Assert.Equal((MessageStatus.Interrupted, "one two "), (saved.Status, saved.Content));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task AStalledStreamEndsInterruptedWithinTheStallTimeout(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "stalled");
        await using var _ = client;
        cluster.FakeModel.EnqueueFor("stall", new FakeReply { Deltas = ["before ", "the ", "silence"], StallAfter = 2 });

        var sent = await client.SendAsync(conversation.Id, "stall");
        await client.WaitForTextAsync(sent.AssistantMessageId, "before the "); // in one chunk or two: the relay may coalesce
        var started = DateTimeOffset.UtcNow;
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId, ChatCluster.ProviderStallTimeout + TimeSpan.FromSeconds(20));

        Assert.Equal((MessageStatus.Interrupted, "before the "), (finished.Status, finished.Content));
        // Ended by the stall timeout, not by anything slower (a stalled stream would otherwise stay open): the bound is
        // generous because a busy machine delays the end's delivery by seconds, never by the stall timeout's order.
        Assert.InRange(DateTimeOffset.UtcNow - started, TimeSpan.Zero, ChatCluster.ProviderStallTimeout + TimeSpan.FromSeconds(10));
        Assert.Equal("before the ", (await SavedAsync(client, conversation.Id, sent.AssistantMessageId)).Content);
        await Wait.UntilAsync(() => cluster.FakeModel.Requests[^1].Ended, Wait.Default, "the stalled request was not closed");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task CancelAbortsTheHttpStreamToTheModel(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "cancelled");
        await using var _ = client;
        cluster.FakeModel.Enqueue(FakeReply.Tokens(200, 20));

        var sent = await client.SendAsync(conversation.Id, "long answer");
        await client.WaitForChunksAsync(sent.AssistantMessageId, 3);
        Assert.True(await client.Hub.CancelGeneration(sent.AssistantMessageId));
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal(MessageStatus.Cancelled, finished.Status);
        var request = cluster.FakeModel.Requests[^1];
        await Wait.UntilAsync(() => request.Ended, TimeSpan.FromSeconds(5), "the model request did not end");
        Assert.True(request.Aborted, "the server saw the client abort the request");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task UnauthorizedEndsFailedWithModelAuthenticationFailed(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "unauthorized");
        await using var _ = client;
        cluster.FakeModel.Enqueue(new FakeReply { Status = 401 });

        var sent = await client.SendAsync(conversation.Id, "who am I");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal((MessageStatus.Failed, "model authentication failed"), (finished.Status, finished.Error));
        Assert.Single(cluster.FakeModel.Requests); // never retried
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task MalformedDataEndsFailedAndTheNextAnswerStillWorks(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "malformed");
        await using var _ = client;
        cluster.FakeModel.Enqueue(new FakeReply { Deltas = ["fine ", "then"], MalformedAfter = 1 }, new FakeReply { Deltas = ["all", " good"] });

        var broken = await client.SendAsync(conversation.Id, "break");
        var brokenFinished = await client.WaitForFinishedAsync(broken.AssistantMessageId);
        var next = await client.SendAsync(conversation.Id, "again");
        var nextFinished = await client.WaitForFinishedAsync(next.AssistantMessageId);

        Assert.Equal(MessageStatus.Failed, brokenFinished.Status);
        Assert.Equal("fine ", (await SavedAsync(client, conversation.Id, broken.AssistantMessageId)).Content);
        Assert.Equal((MessageStatus.Completed, "all good"), (nextFinished.Status, nextFinished.Content));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task ALengthFinishReasonIsSavedAndShown(string provider)
    {
        var (client, conversation) = await StartAsync(provider, "length");
        await using var _ = client;
        cluster.FakeModel.Enqueue(new FakeReply { Deltas = ["cut", " short"], FinishReason = "length" }, new FakeReply { Deltas = ["hidden"], FinishReason = "content_filter" });

        var cut = await client.SendAsync(conversation.Id, "long");
        var cutFinished = await client.WaitForFinishedAsync(cut.AssistantMessageId);
        var filtered = await client.SendAsync(conversation.Id, "bad");
        var filteredFinished = await client.WaitForFinishedAsync(filtered.AssistantMessageId);

        Assert.Equal((MessageStatus.Completed, "length"), (cutFinished.Status, cutFinished.FinishReason));
        Assert.Equal("content_filter", filteredFinished.FinishReason);
        Assert.Equal("length", (await SavedAsync(client, conversation.Id, cut.AssistantMessageId)).FinishReason);
    }

    [Fact]
    public async Task TheApiKeysNeverReachLogsRedisOrPostgres()
    {
        foreach (var provider in new[] { "OpenAI", "AzureOpenAI" })
        {
            var (client, conversation) = await StartAsync(provider, "secrets");
            await using var _ = client;
            cluster.FakeModel.Enqueue(new FakeReply { Status = 401 }, new FakeReply());
            await client.WaitForFinishedAsync((await client.SendAsync(conversation.Id, "one")).AssistantMessageId);
            await client.WaitForFinishedAsync((await client.SendAsync(conversation.Id, "two")).AssistantMessageId);
        }

        var keys = ProviderNames.Select(ChatCluster.ModelApiKey).ToList();
        var output = cluster.HubOutput.ToList();
        Assert.NotEmpty(output);
        Assert.All(keys, key => Assert.DoesNotContain(output, line => line.Contains(key, StringComparison.Ordinal)));
        var db = cluster.RedisClient.GetDatabase();
        await foreach (var key in cluster.RedisClient.GetServers().Single().KeysAsync(pattern: "*"))
        {
            var dump = await db.KeyTypeAsync(key) switch
            {
                RedisType.Stream => string.Join("|", (await db.StreamRangeAsync(key)).SelectMany(e => e.Values).Select(v => v.Value.ToString())),
                RedisType.Hash => string.Join("|", (await db.HashGetAllAsync(key)).Select(e => e.Value.ToString())),
                RedisType.SortedSet => string.Join("|", (await db.SortedSetRangeByRankAsync(key)).Select(v => v.ToString())),
                RedisType.String => (string?)await db.StringGetAsync(key) ?? "",
                RedisType.None => "", // expired meanwhile
                var other => throw new InvalidOperationException($"{key} is a {other}: teach this test to read it"),
            };
            Assert.All(keys, k => Assert.DoesNotContain(k, dump, StringComparison.Ordinal));
        }

        await using var connection = await cluster.Db.OpenConnectionAsync();
        foreach (var key in keys)
        {
            Assert.Equal(0, await connection.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m::text LIKE @Pattern OR c::text LIKE @Pattern",
                new { Pattern = $"%{key}%" }));
        }
    }

    private async Task<(ChatTestClient Client, Conversation Conversation)> StartAsync(string provider, string user)
    {
        var hub = await cluster.ProviderHubAsync(provider);
        cluster.FakeModel.Reset();
        var client = await cluster.ConnectAsync(hub.Url, $"{user}-{provider}");
        return (client, await client.CreateConversationAsync(provider));
    }

    private static async Task<Message> SavedAsync(ChatTestClient client, Guid conversationId, Guid messageId)
    {
        var snapshot = await client.Hub.JoinConversation(conversationId);
        return snapshot.Messages.Single(m => m.Id == messageId);
    }
}
