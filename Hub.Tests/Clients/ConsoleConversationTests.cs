using System.Text.Json;
using ChatStreaming.FakeOpenAI;
using Dapper;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>The console client's conversation commands, typed into its REPL, and its one-shot search.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ConsoleConversationTests(ChatCluster cluster)
{
    private static readonly string ClientAssembly = BuildOutput.Assembly("Client", "ChatStreaming.Client.dll");

    [Fact]
    public async Task TheReplRenamesRegeneratesEditsSearchesExportsAndDeletes()
    {
        const string user = "console-manager";
        await using var client = ChildProcess.Start("dotnet", [ClientAssembly, "--url", cluster.A, "--user", user], input: true);
        await Wait.UntilAsync(() => client.Output.Any(l => l.StartsWith("Connected.", StringComparison.Ordinal)), Wait.Default, "the REPL did not start");

        await client.WriteLineAsync("tell me about zeppelins");
        await WaitForAsync(client, l => l.Contains("assistant> Simulated tell me about zeppelins", StringComparison.Ordinal));
        await WaitForAsync(client, l => l.EndsWith(LastLine("tell me about zeppelins"), StringComparison.Ordinal)); // the whole answer printed
        await client.WriteLineAsync("/rename Airships");
        await WaitForAsync(client, l => l.EndsWith("Renamed to \"Airships\".", StringComparison.Ordinal));
        await client.WriteLineAsync("/regenerate");
        await WaitForAsync(client, l => l.Contains("assistant> Simulated tell me about zeppelins", StringComparison.Ordinal), count: 2);
        await WaitForAsync(client, l => l.EndsWith(LastLine("tell me about zeppelins"), StringComparison.Ordinal), count: 2);
        await client.WriteLineAsync("/edit tell me about blimps");
        await WaitForAsync(client, l => l.EndsWith(LastLine("tell me about blimps"), StringComparison.Ordinal));
        await client.WriteLineAsync("/search blimps");
        await WaitForAsync(client, l => l.Contains("Airships", StringComparison.Ordinal) && l.Contains("**blimps**", StringComparison.Ordinal));
        var file = Path.Combine(Path.GetTempPath(), $"export-{Guid.NewGuid():N}.md");
        await client.WriteLineAsync($"/export markdown {file}");
        await WaitForAsync(client, l => l.EndsWith($"Exported to {file}.", StringComparison.Ordinal));
        var exported = await File.ReadAllTextAsync(file);
        File.Delete(file);

        await using var db = await cluster.Db.OpenConnectionAsync();
        var conversationId = await db.QuerySingleAsync<Guid>("SELECT id FROM conversations WHERE owner_id = @user", new { user });
        var roles = (await db.QueryAsync<string>("SELECT role FROM messages WHERE conversation_id = @conversationId ORDER BY position", new { conversationId })).ToList();
        await client.WriteLineAsync("/delete");
        await client.WriteLineAsync("y"); // the answer to "Delete this conversation…? [y/N]"
        await WaitForAsync(client, l => l.Contains("[y/N] Deleted.", StringComparison.Ordinal));
        await client.WriteLineAsync("/quit");
        await client.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        Assert.Equal(["user", "assistant", "assistant", "user", "assistant"], roles); // a regenerated answer and an edited question, beside the originals
        Assert.StartsWith("# Airships", exported, StringComparison.Ordinal);
        Assert.Contains("tell me about blimps", exported, StringComparison.Ordinal);
        Assert.DoesNotContain("tell me about zeppelins\n", exported, StringComparison.Ordinal); // the export is the active branch
        Assert.Equal(0, await db.ExecuteScalarAsync<long>("SELECT count(*) FROM conversations WHERE owner_id = @user", new { user }));
        Assert.Equal(0, client.ExitCode);
        Assert.DoesNotContain(client.Output, l => l.Contains("   at ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithAModelTheConsolePrintsReasoningAndToolCallsDimmedAndAsJsonEvents()
    {
        var (hub, _) = await cluster.CatalogHubsAsync();
        const string user = "console-parts";
        await using (var seeder = await cluster.ConnectAsync(hub.Url, user))
        {
            var seed = await seeder.CreateConversationAsync("seed");
            var sent = await seeder.SendAsync(seed.Id, "the tapir is named Pixel", model: "fast");
            await seeder.WaitForFinishedAsync(sent.AssistantMessageId);
        }

        await using var text = ChildProcess.Start("dotnet", [ClientAssembly, "--url", hub.Url, "--user", user, "--model", "thinker", "--prompt", "search for tapir"]);
        await text.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        await using var json = ChildProcess.Start("dotnet", [ClientAssembly, "--url", hub.Url, "--user", user, "--model", "thinker", "--json", "--prompt", "search for tapir"]);
        await json.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        Assert.Equal(0, text.ExitCode);
        Assert.Contains(text.Output, l => l.StartsWith("thinking: The question is about search.", StringComparison.Ordinal));
        Assert.Contains(text.Output, l => l == "[tool] search_history {\"query\":\"tapir\"}");
        Assert.Contains(text.Output, l => l.StartsWith("[tool result] [", StringComparison.Ordinal)); // cut at 200 characters
        Assert.Contains(text.Output, l => l.StartsWith("I looked through your earlier messages first. Simulated search for tapir", StringComparison.Ordinal));

        Assert.Equal(0, json.ExitCode);
        var events = json.Output.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var kinds = events.Select(e => e.GetProperty("event").GetString()).Where(e => e is "reasoning" or "toolCall" or "toolResult" or "chunk").Distinct().ToList();
        Assert.Equal(["reasoning", "toolCall", "toolResult", "chunk"], kinds); // in the order they streamed
        Assert.Contains("Pixel", events.Single(e => e.GetProperty("event").GetString() == "toolResult").GetProperty("part").GetString(), StringComparison.Ordinal);
        var finished = events.Single(e => e.GetProperty("event").GetString() == "finished").GetProperty("finished");
        Assert.Equal("thinker", finished.GetProperty("model").GetString());
        Assert.Equal(["reasoning", "toolCall", "toolResult", "text"], finished.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task TheConsoleWritesModelTextWithoutItsTerminalEscapeSequences()
    {
        var (hub, _) = await cluster.CatalogHubsAsync();
        const string prompt = "answer me with terminal escapes";
        // Clear the screen, retitle the window, recolour (split across chunks), write the clipboard (OSC 52).
        cluster.FakeModel.EnqueueFor(prompt, new FakeReply { Deltas = ["safe ", "\u001b[2J\u001b]0;pwned\u0007", "red \u001b[3", "1mtext\u001b[0m", "\u001b]52;c;c2VjcmV0\u001b\\ end\r."] });

        await using var text = ChildProcess.Start("dotnet", [ClientAssembly, "--url", hub.Url, "--user", "console-escapes", "--model", "gpt", "--prompt", prompt]);
        await text.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        Assert.Equal(0, text.ExitCode);
        Assert.Contains(text.Output, l => l.Contains("safe red text end.", StringComparison.Ordinal));
        Assert.DoesNotContain(text.Output, l => l.Any(char.IsControl));
    }

    [Fact]
    public async Task SearchPrintsTheHitsAsJsonLinesAndExitsZero()
    {
        const string user = "console-searcher";
        await using (var sender = await cluster.ConnectAsync(cluster.B, user))
        {
            var conversation = await sender.CreateConversationAsync("Gardening");
            var sent = await sender.SendAsync(conversation.Id, "when do tulips bloom");
            await sender.WaitForFinishedAsync(sent.AssistantMessageId);
        }

        await using var client = ChildProcess.Start("dotnet", [ClientAssembly, "--url", cluster.A, "--user", user, "--search", "tulip", "--json"]);
        await client.ExitCodeAsync();

        Assert.Equal(0, client.ExitCode);
        var hits = client.Output.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, hits.Count); // the question and its answer (which echoes it)
        Assert.All(hits, h => Assert.Equal("hit", h.GetProperty("event").GetString()));
        Assert.All(hits, h => Assert.Equal("Gardening", h.GetProperty("conversationTitle").GetString()));
        Assert.Contains(hits, h => h.GetProperty("role").GetString() == "user" && h.GetProperty("snippet").GetString()!.Contains("**tulips**", StringComparison.Ordinal));
    }

    /// <summary>The last line of the simulated answer to <paramref name="prompt"/> (answers are Markdown, several lines).</summary>
    private static string LastLine(string prompt) => Simulated.Answer(prompt).Split('\n')[^1];

    private static Task WaitForAsync(ChildProcess client, Func<string, bool> line, int count = 1) =>
        Wait.UntilAsync(() => client.Output.Count(line) >= count, TimeSpan.FromSeconds(30), $"the client did not print the expected line; it said:\n{string.Join('\n', client.Output.TakeLast(10))}");
}
