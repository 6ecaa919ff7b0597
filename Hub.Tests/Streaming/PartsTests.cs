using System.Text.Json;
using ChatStreaming.FakeOpenAI;

namespace ChatStreaming.Hub.Tests.Streaming;

/// <summary>
/// Reasoning, tool calls and tool results streamed as typed chunks, through the real SDKs (OpenAI and Azure OpenAI wire
/// formats at the fake server) and the offline model: live on the other instance, once each and in order, saved as the
/// answer's parts, replayed with their kinds. The tool is the built-in search_history, scoped to the caller.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PartsTests(ChatCluster cluster)
{
    public static TheoryData<string> ProviderModels => new(["gpt", "azure"]);

    [Theory]
    [MemberData(nameof(ProviderModels))]
    public async Task ReasoningAndAToolCallStreamAsPartsToTheOtherInstanceAndAreSavedAndReplayed(string model)
    {
        var (a, b) = await cluster.CatalogHubsAsync();
        var user = $"parts-{model}";
        await SeedAsync(a.Url, user, $"my zebra from {model} is called Stripes");
        await SeedAsync(a.Url, $"{user}-stranger", "the stranger's zebra is a secret");
        await using var owner = await cluster.ConnectAsync(a.Url, user);
        await using var watcher = await cluster.ConnectAsync(b.Url, user);
        var conversation = await owner.CreateConversationAsync();
        await watcher.Hub.JoinConversation(conversation.Id);
        cluster.FakeModel.Reset();
        cluster.FakeModel.Enqueue(
            new FakeReply { Reasoning = ["Let me ", "look it up."], ToolCall = new FakeToolCall("search_history", """{"query":"zebra"}""") },
            new FakeReply { Deltas = ["Your zebra ", "is Stripes."] });

        var sent = await owner.SendAsync(conversation.Id, "what is my zebra called?", model: model);
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal((MessageStatus.Completed, "Your zebra is Stripes.", model), (finished.Status, finished.Content, finished.Model));
        Assert.Equal([ChunkKinds.Reasoning, ChunkKinds.ToolCall, ChunkKinds.ToolResult, ChunkKinds.Text], finished.Parts!.Select(p => p.Kind));
        Assert.Equal("Let me look it up.", finished.Parts![0].Text);
        using (var call = JsonDocument.Parse(finished.Parts[1].Text))
        {
            Assert.Equal("call_fake_1", call.RootElement.GetProperty("callId").GetString());
            Assert.Equal("search_history", call.RootElement.GetProperty("name").GetString());
            Assert.Equal("zebra", call.RootElement.GetProperty("arguments").GetProperty("query").GetString());
        }

        using (var result = JsonDocument.Parse(finished.Parts[2].Text))
        {
            Assert.Equal("call_fake_1", result.RootElement.GetProperty("callId").GetString());
            var found = result.RootElement.GetProperty("result").GetRawText();
            Assert.Contains("Stripes", found, StringComparison.Ordinal);
            Assert.DoesNotContain("stranger", found, StringComparison.Ordinal); // only the caller's history
        }

        StreamAssert.EveryPartOnceInOrder(watcher.ChunksOf(sent.AssistantMessageId), finished);
        await owner.WaitForFinishedAsync(sent.AssistantMessageId);
        StreamAssert.EveryPartOnceInOrder(owner.ChunksOf(sent.AssistantMessageId), finished);
        Assert.Equal(new TokenUsage(22, 3), finished.Usage); // both rounds: the tool call's and the answer's

        // The model was offered the tool, and got its result back in the second round.
        var requests = cluster.FakeModel.Requests;
        Assert.Equal(2, requests.Count);
        Assert.All(requests, r => Assert.Equal(["search_history"], r.Tools));
        Assert.Contains(requests[1].Messages, m => m.Role == "tool" && m.Content.Contains("Stripes", StringComparison.Ordinal));

        // Replay gives back every kind; the saved answer has the same parts.
        var replayed = await watcher.Hub.GetChunks(sent.AssistantMessageId, 0L);
        Assert.Equal(watcher.ChunksOf(sent.AssistantMessageId), replayed);
        await using var reader = await cluster.ConnectAsync(b.Url, user);
        var snapshot = await reader.Hub.JoinConversation(conversation.Id);
        var saved = snapshot.Messages.Single(m => m.Id == sent.AssistantMessageId);
        Assert.Equal((finished.Content, finished.Model), (saved.Content, saved.Model));
        Assert.Equal(finished.Parts, saved.Parts);
    }

    [Fact]
    public async Task AModelThatAsksForAToolInEveryRoundIsAskedALastTimeWithoutToolsAndItsAnswerEndsInText()
    {
        // Four tool rounds (MaxToolRounds), each asking for the tool again; then the function invocation asks once more
        // offering no tool, with every result, and the model answers: the answer never ends on a call nobody ran.
        var (a, _) = await cluster.CatalogHubsAsync();
        const string prompt = "search until you find it";
        cluster.FakeModel.Reset();
        for (var i = 1; i <= 4; i++)
        {
            cluster.FakeModel.EnqueueFor(prompt, new FakeReply { ToolCall = new FakeToolCall("search_history", $$"""{"query":"try {{i}}"}""", $"call_{i}") });
        }

        cluster.FakeModel.EnqueueFor(prompt, new FakeReply { Deltas = ["Nothing ", "was found."] });
        await using var owner = await cluster.ConnectAsync(a.Url, "parts-round-limit");
        var sent = await owner.SendAsync((await owner.CreateConversationAsync()).Id, prompt, model: "gpt");
        var finished = await owner.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal((MessageStatus.Completed, "Nothing was found."), (finished.Status, finished.Content));
        string[] kinds = [.. Enumerable.Range(0, 4).SelectMany(_ => new[] { ChunkKinds.ToolCall, ChunkKinds.ToolResult }), ChunkKinds.Text];
        Assert.Equal(kinds, finished.Parts!.Select(p => p.Kind));
        StreamAssert.EveryPartOnceInOrder(owner.ChunksOf(sent.AssistantMessageId), finished);
        var requests = cluster.FakeModel.Requests;
        Assert.Equal(5, requests.Count);
        Assert.All(requests.Take(4), r => Assert.Equal(["search_history"], r.Tools));
        Assert.Empty(requests[4].Tools);
        Assert.Equal(4, requests[4].Messages.Count(m => m.Role == "tool"));
    }

    [Fact]
    public async Task TheOfflineModelReasonsThenSearchesOnlyTheCallersHistory()
    {
        var (a, b) = await cluster.CatalogHubsAsync();
        const string user = "parts-offline";
        await SeedAsync(a.Url, user, "remember the okapi named Dotty");
        await SeedAsync(a.Url, "parts-offline-stranger", "the okapi secret of a stranger");
        await using var owner = await cluster.ConnectAsync(b.Url, user);
        var conversation = await owner.CreateConversationAsync();

        var sent = await owner.SendAsync(conversation.Id, "please search my history for okapi", model: "thinker");
        var finished = await owner.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal((MessageStatus.Completed, "thinker"), (finished.Status, finished.Model));
        Assert.Equal([ChunkKinds.Reasoning, ChunkKinds.ToolCall, ChunkKinds.ToolResult, ChunkKinds.Text], finished.Parts!.Select(p => p.Kind));
        Assert.StartsWith("The question is about please.", finished.Parts![0].Text, StringComparison.Ordinal);
        Assert.Contains("\"query\":\"okapi\"", finished.Parts[1].Text, StringComparison.Ordinal);
        Assert.Contains("Dotty", finished.Parts[2].Text, StringComparison.Ordinal);
        Assert.DoesNotContain("stranger", finished.Parts[2].Text, StringComparison.Ordinal);
        Assert.StartsWith("I looked through your earlier messages first. Simulated please search my history", finished.Content, StringComparison.Ordinal);
        StreamAssert.EveryPartOnceInOrder(owner.ChunksOf(sent.AssistantMessageId), finished);

        // A model without tools never calls one; the same question is answered as text.
        var plain = await owner.SendAsync(conversation.Id, "please search my history for okapi", model: "fast");
        var answered = await owner.WaitForFinishedAsync(plain.AssistantMessageId);
        Assert.Equal([ChunkKinds.Text], answered.Parts!.Select(p => p.Kind));
        Assert.All(owner.ChunksOf(plain.AssistantMessageId), c => Assert.Equal(ChunkKinds.Text, c.Kind));
    }

    [Fact]
    public async Task AClientJoiningMidAnswerOnTheOtherInstanceGetsThePartsSoFarThenTheRestOnce()
    {
        var (a, b) = await cluster.CatalogHubsAsync();
        const string user = "parts-resume";
        await SeedAsync(a.Url, user, "the quokka is named Smiley");
        await using var owner = await cluster.ConnectAsync(a.Url, user);
        var conversation = await owner.CreateConversationAsync();
        var sent = await owner.SendAsync(conversation.Id, "search for quokka", model: "slow");
        await Wait.UntilAsync(() => owner.ChunksOf(sent.AssistantMessageId).Count(c => c.Kind == ChunkKinds.Text) >= 3, TimeSpan.FromSeconds(30), "no text after the tool call");

        await using var late = await cluster.ConnectAsync(b.Url, user);
        var snapshot = await late.Hub.JoinConversation(conversation.Id);
        var resumed = snapshot.Messages.Single(m => m.Id == sent.AssistantMessageId);
        await owner.Hub.CancelGeneration(sent.AssistantMessageId);
        var finished = await late.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal(MessageStatus.Streaming, resumed.Status);
        Assert.Equal([ChunkKinds.Reasoning, ChunkKinds.ToolCall, ChunkKinds.ToolResult, ChunkKinds.Text], resumed.Parts!.Select(p => p.Kind));
        Assert.Equal(resumed.Parts!.Take(3), finished.Parts!.Take(3)); // reasoning and the tool as they were
        Assert.StartsWith(resumed.Parts![3].Text, finished.Parts![3].Text, StringComparison.Ordinal);
        Assert.Equal(resumed.Content, resumed.Parts[3].Text);
        // The late client's chunks continue the snapshot: once each, in order, ending as saved.
        var live = late.ChunksOf(sent.AssistantMessageId).Where(c => c.Sequence > resumed.LastSequence!.Value).ToList();
        Assert.Equal(Enumerable.Range((int)resumed.LastSequence!.Value + 1, live.Count).Select(i => (long)i), live.Select(c => c.Sequence));
        Assert.Equal(finished.Content, resumed.Content + string.Concat(live.Select(c => c.Delta)));
        Assert.Equal(MessageStatus.Cancelled, finished.Status);
        Assert.Equal("slow", finished.Model);
    }

    /// <summary>A question (and its answer) of <paramref name="user"/> saved in a conversation of their own.</summary>
    private async Task SeedAsync(string url, string user, string content)
    {
        await using var client = await cluster.ConnectAsync(url, user);
        var conversation = await client.CreateConversationAsync("seed");
        var sent = await client.SendAsync(conversation.Id, content, model: "fast");
        await client.WaitForFinishedAsync(sent.AssistantMessageId);
    }
}
