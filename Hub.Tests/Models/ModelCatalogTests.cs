using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatStreaming.FakeOpenAI;
using Dapper;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Hub.Tests.Models;

/// <summary>
/// The model catalog (<see cref="ChatCluster.CatalogHubsAsync"/>): models per conversation and per send, saved on every
/// answer; unknown names refused before anything is saved.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ModelCatalogTests(ChatCluster cluster)
{
    [Fact]
    public async Task TheCatalogIsListedOnBothInstancesAndOverRestWithoutEndpointsOrKeys()
    {
        var (a, b) = await cluster.CatalogHubsAsync();
        await using var client = await cluster.ConnectAsync(a.Url, "catalog-list");

        var models = await client.Hub.ListModels();

        Assert.Equal(["fast", "azure", "burst", "gpt", "long", "slow", "thinker"], models.Select(m => m.Name)); // the default, then by name
        Assert.Equal(["Simulated", "AzureOpenAI", "Simulated", "OpenAI", "Simulated", "Simulated", "Simulated"], models.Select(m => m.Provider));
        Assert.Equal([true, false, false, false, false, false, false], models.Select(m => m.IsDefault));
        Assert.Equal(["search_history"], models.Single(m => m.Name == "thinker").Tools);
        Assert.Empty(models.Single(m => m.Name == "fast").Tools!);

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await cluster.TokenAsync("catalog-list"));
        var json = await http.GetStringAsync($"{b.Url}{ChatHubPaths.Models}");
        Assert.Equal(models, JsonSerializer.Deserialize<List<ModelInfo>>(json, JsonSerializerOptions.Web)!, new ModelInfoComparer());
        Assert.DoesNotContain("SECRET", json, StringComparison.Ordinal);
        Assert.DoesNotContain(cluster.FakeModel.Url, json, StringComparison.Ordinal);
        Assert.DoesNotContain("fake-deployment", json, StringComparison.Ordinal);
        using var anonymous = new HttpClient();
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"{b.Url}{ChatHubPaths.Models}")).StatusCode);
    }

    [Fact]
    public async Task AnUnknownModelIsAClearErrorAndNothingIsSaved()
    {
        var (a, _) = await cluster.CatalogHubsAsync();
        await using var client = await cluster.ConnectAsync(a.Url, "catalog-unknown");
        var conversation = await client.CreateConversationAsync();

        var send = await Assert.ThrowsAsync<HubException>(() => client.SendAsync(conversation.Id, "hello", model: "gpt-9"));
        var update = await Assert.ThrowsAsync<HubException>(() => client.Hub.UpdateConversation(new UpdateConversationRequest(conversation.Id, null, Model: "nope")));

        Assert.EndsWith("unknown model 'gpt-9' (models: fast, azure, burst, gpt, long, slow, thinker)", send.Message, StringComparison.Ordinal);
        Assert.EndsWith("unknown model 'nope' (models: fast, azure, burst, gpt, long, slow, thinker)", update.Message, StringComparison.Ordinal);
        await using var db = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = @Id", new { conversation.Id }));
        Assert.Null(await db.ExecuteScalarAsync<string?>("SELECT model FROM conversations WHERE id = @Id", new { conversation.Id }));
    }

    [Fact]
    public async Task AConversationsModelAndPromptAnswerItsSendsAndOneSendCanNameAnother()
    {
        var (a, b) = await cluster.CatalogHubsAsync();
        await using var owner = await cluster.ConnectAsync(a.Url, "catalog-choice");
        await using var watcher = await cluster.ConnectAsync(b.Url, "catalog-choice");
        var conversation = await owner.CreateConversationAsync();
        await watcher.Hub.JoinConversation(conversation.Id);
        cluster.FakeModel.Reset();

        var changed = await owner.Hub.UpdateConversation(new UpdateConversationRequest(conversation.Id, null, Model: "GPT", SystemPrompt: "Answer as a pirate."));
        Assert.Equal(("test", "gpt", "Answer as a pirate."), (changed.Title, changed.Model, changed.SystemPrompt)); // the catalog's spelling
        await Wait.UntilAsync(() => watcher.ConversationsUpdated.Any(c => c.Id == conversation.Id), Wait.Default, "the other instance was not told");
        Assert.Equal(changed, watcher.ConversationsUpdated.Last(c => c.Id == conversation.Id));

        cluster.FakeModel.Enqueue(new FakeReply { Deltas = ["Arr"] }, new FakeReply { Deltas = ["Azure", " says"] }, new FakeReply { Deltas = ["Arr again"] });
        var first = await SendAndWatchAsync(owner, watcher, conversation.Id, "hello", null);
        var second = await SendAndWatchAsync(owner, watcher, conversation.Id, "hello azure", "azure");
        var third = await SendAndWatchAsync(owner, watcher, conversation.Id, "hello again", null);

        Assert.Equal([("gpt", "Arr"), ("azure", "Azure says"), ("gpt", "Arr again")], new[] { first, second, third }.Select(f => (f.Model, f.Content)));
        var requests = cluster.FakeModel.Requests;
        Assert.Equal(3, requests.Count);
        Assert.Equal(["/v1/chat/completions", "/openai/deployments/fake-deployment/chat/completions", "/v1/chat/completions"], requests.Select(r => r.Path));
        Assert.Equal("fake-gpt", requests[0].Model);
        Assert.All(requests, r => Assert.Equal(("system", "Answer as a pirate."), r.Messages[0]));
        Assert.All(requests, r => Assert.Equal(["search_history"], r.Tools)); // offered as the catalog says

        // Saved with each answer, read back with it.
        var snapshot = await watcher.Hub.JoinConversation(conversation.Id);
        Assert.Equal(["gpt", "azure", "gpt"], snapshot.Messages.Where(m => m.Role == MessageRole.Assistant).Select(m => m.Model));
        Assert.All(snapshot.Messages.Where(m => m.Role == MessageRole.User), m => Assert.Null(m.Model));
        Assert.Equal("gpt", snapshot.Conversation.Model);

        // "" resets to the default model and the model's own prompt.
        var reset = await owner.Hub.UpdateConversation(new UpdateConversationRequest(conversation.Id, null, "", ""));
        Assert.Equal(("test", null, null), (reset.Title, reset.Model, reset.SystemPrompt));
        var fourth = await SendAndWatchAsync(owner, watcher, conversation.Id, "and now", null);
        Assert.Equal("fast", fourth.Model);
        Assert.StartsWith("Simulated and now", fourth.Content, StringComparison.Ordinal);
        Assert.Equal(3, cluster.FakeModel.Requests.Count);
    }

    [Fact]
    public async Task UsageTotalsPerModelAreTheSavedAnswersOnHubAndRest()
    {
        var (a, b) = await cluster.CatalogHubsAsync();
        await using var client = await cluster.ConnectAsync(a.Url, "catalog-usage");
        var conversation = await client.CreateConversationAsync();
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);
        foreach (var (content, model) in new[] { ("one", "fast"), ("two", "fast"), ("three", "thinker") })
        {
            var sent = await client.SendAsync(conversation.Id, content, model: model);
            await client.WaitForFinishedAsync(sent.AssistantMessageId);
        }

        var usage = await client.Hub.GetUsage(new UsageRequest());

        await using var db = await cluster.Db.OpenConnectionAsync();
        var saved = (await db.QueryAsync<(string Model, long Answers, long Prompt, long Completion)>(
            """
            SELECT m.model, count(*), sum(m.prompt_tokens)::bigint, sum(m.completion_tokens)::bigint
            FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE c.owner_id = 'catalog-usage' AND m.role = 'assistant' GROUP BY m.model ORDER BY m.model
            """)).ToList();
        Assert.Equal(saved.Select(s => new ModelUsage(s.Model, s.Answers, s.Prompt, s.Completion)), usage);
        Assert.Equal([("fast", 2L), ("thinker", 1L)], usage.Select(u => (u.Model, u.Answers)));
        Assert.All(usage, u => Assert.True(u.PromptTokens > 0 && u.CompletionTokens > 0, $"{u}"));

        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await cluster.TokenAsync("catalog-usage"));
        var rest = await http.GetFromJsonAsync<List<ModelUsage>>($"{b.Url}{ChatHubPaths.Usage}?from={Uri.EscapeDataString(started.ToString("O"))}");
        Assert.Equal(usage, rest);
        Assert.Empty((await http.GetFromJsonAsync<List<ModelUsage>>($"{b.Url}{ChatHubPaths.Usage}?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}"))!);
        var backwards = await Assert.ThrowsAsync<HubException>(() => client.Hub.GetUsage(new UsageRequest(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(-1))));
        Assert.EndsWith("to must not be before from", backwards.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheAnswerThatCrossesTheDailyTokenBudgetFinishesThenEveryInstanceRefusesTheNextSend()
    {
        var (a, b) = await cluster.CatalogHubsAsync();
        await using var onA = await cluster.ConnectAsync(a.Url, "catalog-budget");
        await using var onB = await cluster.ConnectAsync(b.Url, "catalog-budget");
        var conversation = await onA.CreateConversationAsync();

        var sent = await onA.SendAsync(conversation.Id, "a long one please", model: "long");
        var finished = await onA.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(60));

        Assert.Equal(MessageStatus.Completed, finished.Status);
        Assert.True(finished.Usage!.PromptTokens + finished.Usage.CompletionTokens > ChatCluster.CatalogTokensPerDay, $"{finished.Usage}");
        Assert.Equal(3000, finished.Usage.CompletionTokens);
        foreach (var client in new[] { onB, onA })
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => client.SendAsync(conversation.Id, "one more"));
            var match = System.Text.RegularExpressions.Regex.Match(refused.Message, @"rate limited, retry after (\d+) s: token budget$");
            Assert.True(match.Success, refused.Message);
            Assert.InRange(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 1, 86_400);
        }

        await using var db = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(2, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = @Id", new { conversation.Id }));
        // Another user's budget is their own.
        await using var other = await cluster.ConnectAsync(b.Url, "catalog-budget-other");
        var theirs = await other.CreateConversationAsync();
        var allowed = await other.SendAsync(theirs.Id, "hello");
        Assert.Equal(MessageStatus.Completed, (await other.WaitForFinishedAsync(allowed.AssistantMessageId)).Status);
    }

    [Fact]
    public async Task CancellingEachAnswerBeforeItsEndDoesNotDodgeTheDailyTokenBudget()
    {
        var (a, b) = await cluster.CatalogHubsAsync();
        await using var client = await cluster.ConnectAsync(a.Url, "catalog-budget-cancel");
        var conversation = await client.CreateConversationAsync();

        // The simulated model reports usage only at its end: before, a cancelled answer was charged nothing, and a user
        // cancelling each answer just before its end never met the budget. Now it is charged an estimate.
        for (var i = 0; i < 2; i++)
        {
            var sent = await client.SendAsync(conversation.Id, $"a burst of words number {i}", model: "burst");
            await Wait.UntilAsync(() => client.ChunksOf(sent.AssistantMessageId).DistinctBy(c => c.Sequence).Sum(c => c.Delta.Length) >= 4400, Wait.Default, "the burst did not stream");
            await client.Hub.CancelGeneration(sent.AssistantMessageId);
            var cancelled = await client.WaitForFinishedAsync(sent.AssistantMessageId);
            Assert.Equal(MessageStatus.Cancelled, cancelled.Status);
            Assert.True(cancelled.Usage is { Estimated: true, CompletionTokens: >= 1100 }, $"{cancelled.Usage}");
        }

        // Two answers cancelled at ~1100 tokens each crossed the 2000 a day: the next send is refused on every instance.
        await using var onB = await cluster.ConnectAsync(b.Url, "catalog-budget-cancel");
        var refused = await Assert.ThrowsAsync<HubException>(() => onB.SendAsync(conversation.Id, "one more", model: "burst"));
        Assert.EndsWith("token budget", refused.Message, StringComparison.Ordinal);
        var usage = Assert.Single(await client.Hub.GetUsage(null));
        Assert.Equal(("burst", 2L, 2L), (usage.Model, usage.Answers, usage.EstimatedAnswers));
        Assert.True(usage.TotalTokens > ChatCluster.CatalogTokensPerDay, $"{usage}");
    }

    [Fact]
    public async Task ModelCallsEmitTheOpenTelemetryGenAIMetrics()
    {
        var (a, _) = await cluster.CatalogHubsAsync();
        await using var client = await cluster.ConnectAsync(a.Url, "catalog-metrics");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "count my tokens");
        await client.WaitForFinishedAsync(sent.AssistantMessageId);

        using var http = new HttpClient();
        var metrics = await http.GetStringAsync($"{a.Url}/metrics");

        Assert.Contains("gen_ai_client_operation_duration", metrics, StringComparison.Ordinal);
        Assert.Contains("gen_ai_client_token_usage", metrics, StringComparison.Ordinal);
    }

    private static async Task<GenerationFinished> SendAndWatchAsync(ChatTestClient owner, ChatTestClient watcher, Guid conversationId, string content, string? model)
    {
        var sent = await owner.SendAsync(conversationId, content, model: model);
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Completed, finished.Status);
        StreamAssert.EveryPartOnceInOrder(watcher.ChunksOf(sent.AssistantMessageId), finished);
        return finished;
    }

    private sealed class ModelInfoComparer : IEqualityComparer<ModelInfo>
    {
        public bool Equals(ModelInfo? x, ModelInfo? y) =>
            (x?.Name, x?.Provider, x?.IsDefault) == (y?.Name, y?.Provider, y?.IsDefault) && (x?.Tools ?? []).SequenceEqual(y?.Tools ?? []);

        public int GetHashCode(ModelInfo obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
