using Dapper;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>The .NET console client (Client/), run as a process the way a script would run it.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ConsoleClientTests(ChatCluster cluster)
{
    private static readonly string ClientAssembly = BuildOutput.Assembly("Client", "ChatStreaming.Client.dll");

    [Fact]
    public async Task PromptPrintsExactlyTheSavedAnswerAndExitsZero()
    {
        await using var client = ChildProcess.Start("dotnet", [ClientAssembly, "--url", cluster.B, "--user", "console-prompt", "--prompt", "hello console"]);
        var exitCode = await client.ExitCodeAsync();

        Assert.Equal(0, exitCode);
        await using var connection = await cluster.Db.OpenConnectionAsync();
        var saved = await connection.QuerySingleAsync<string>("""
            SELECT m.content FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE c.owner_id = 'console-prompt' AND m.role = 'assistant'
            """);
        Assert.Equal(Simulated.Answer("hello console"), saved);
        Assert.Equal(saved, string.Join('\n', client.Output)); // stdout is the answer (stderr is empty on success)
    }

    [Fact]
    public async Task JsonPrintsOneLinePerEventEndingWithTheFinishedAnswer()
    {
        await using var client = ChildProcess.Start("dotnet", [ClientAssembly, "--url", cluster.A, "--user", "console-json", "--prompt", "json please", "--json"]);

        Assert.Equal(0, await client.ExitCodeAsync());
        var lines = client.Output.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal("started", lines[0].GetProperty("event").GetString());
        var finished = lines[^1].GetProperty("finished");
        Assert.Equal("completed", finished.GetProperty("status").GetString());
        // one line per chunk received, in order: their deltas spell the final answer (however it was chunked)
        var chunks = lines.Where(l => l.GetProperty("event").GetString() == "chunk").ToList();
        Assert.Equal(Enumerable.Range(1, chunks.Count).Select(i => (long)i), chunks.Select(c => c.GetProperty("sequence").GetInt64()));
        Assert.Equal(Simulated.Answer("json please"), string.Concat(chunks.Select(c => c.GetProperty("delta").GetString())));
        Assert.Equal(Simulated.Answer("json please"), finished.GetProperty("content").GetString());
    }

    [Fact]
    public async Task AgainstAStoppedHubItExitsNonZeroWithAOneLineError()
    {
        await using var client = ChildProcess.Start("dotnet", [ClientAssembly, "--url", $"http://127.0.0.1:{LoopbackPorts.Free()}", "--user", "nobody", "--prompt", "hi"]);

        Assert.Equal(1, await client.ExitCodeAsync());
        var line = Assert.Single(client.Output);
        Assert.StartsWith("error: cannot reach the hub at http://127.0.0.1:", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadUrlIsAUsageErrorNotAStackTrace()
    {
        await using var client = ChildProcess.Start("dotnet", [ClientAssembly, "--url", "not a url", "--user", "x", "--prompt", "hi"]);

        Assert.NotEqual(0, await client.ExitCodeAsync());
        Assert.DoesNotContain(client.Output, l => l.Contains("   at ", StringComparison.Ordinal));
        Assert.Contains(client.Output, l => l.Contains("--url", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CtrlCDuringAnAnswerCancelsItAndTheSavedMessageIsCancelled()
    {
        var hub = await cluster.LongAnswerHubAsync(); // 100 s answers: a client starting slowly on a busy machine still lands mid-answer
        // --json: a line per chunk, so the test sees the answer streaming (plain text has no newline until the end)
        // SIGINT restored to its default first: a test run started in the background by a script (e.g. `./test.sh &`)
        // inherits SIGINT ignored, and .NET then never raises Ctrl+C (as a shell's background job ignores it too).
        await using var client = ChildProcess.Start("env", ["--default-signal=INT", "dotnet", ClientAssembly, "--url", hub.Url, "--user", "console-sigint", "--prompt", "long one", "--json"]);
        await Wait.UntilAsync(() => client.Output.Count(l => l.Contains("\"chunk\"", StringComparison.Ordinal)) >= 3, TimeSpan.FromSeconds(60), "the answer did not start");

        client.Signal(Signals.Interrupt); // as Ctrl+C in a terminal

        var exitCode = await client.ExitCodeAsync();
        Assert.True(exitCode == 3, $"exit {exitCode}, not 3 (cancelled); the client said:\n{string.Join('\n', client.Output.TakeLast(8))}");
        await using var connection = await cluster.Db.OpenConnectionAsync();
        var status = await connection.QuerySingleAsync<string>("""
            SELECT m.status FROM messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE c.owner_id = 'console-sigint' AND m.role = 'assistant'
            """);
        Assert.Equal(MessageStatus.Cancelled.ToWireName(), status);
        Assert.Contains(client.Output, l => l == "answer cancelled");
    }
}
