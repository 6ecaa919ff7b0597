using ChatStreaming.Client.Core;
using ChatStreaming.FakeOpenAI;
using ChatStreaming.Worker.Generation;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Model;
using System.Diagnostics;
using Xunit.Abstractions;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>
/// <c>Chat:Failover = Continue</c> (the default): an answer outlives its instance. Another instance claims it (two
/// survivors both sweep: exactly one wins), resumes the model after the replay buffer's last chunk and ends it as if
/// nothing happened; an owner that was only paused is fenced out when it wakes. Each test has a Redis of its own and
/// three hubs with the same model settings (the survivors, shared by the tests, must answer with the owner's model, as in a deployment).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class TakeoverTests(ChatCluster cluster, ClassHubs shared, ITestOutputHelper output) : IClassFixture<ClassHubs>
{
    [Fact]
    public async Task AnAnswerOfAKilledInstanceIsCarriedOnByAnotherToTheTextAnUninterruptedAnswerHas()
    {
        // The model searches the history first (a tool call and its result), then answers: the successor must not run
        // the tool again, and must go on from the text the buffer holds.
        const string prompt = "search for what I asked before the crash";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var survivors = await SurvivorsAsync(redis, database);
        await using var doomed = await HubInstance.StartAsync(await SettingsAsync(redis, database));
        await using var watcher = await cluster.ConnectAsync(survivors.A.Url, "takeover-killed");
        await using var sender = await cluster.ConnectAsync(doomed.Url, "takeover-killed");
        var conversationId = (await watcher.CreateConversationAsync()).Id;
        // Before the send (a busy machine takes seconds to start a browser, longer than the answer lasts): the client a
        // user runs, on the other survivor — it shows one answer, marked resumed — and the browser page there.
        var token = await cluster.TokenAsync("takeover-killed");
        await using var session = new ChatSession(new Uri(survivors.B.Url), () => Task.FromResult<string?>(token));
        var shown = new TaskCompletionSource<AnswerState>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Finished += answer => shown.TrySetResult(answer);
        await session.StartAsync(CancellationToken.None);
        await session.OpenAsync(conversationId, CancellationToken.None);
        var browser = new BrowserSession();
        await browser.InitializeAsync();
        await using var _ = new AsyncDisposer(browser.DisposeAsync);
        var page = await browser.SignedInPageAsync(survivors.B.Url, "/", "takeover-killed");
        await page.ClickAsync($"#conversations li[data-conversation-id='{conversationId}'] button.open");
        await page.WaitForSelectorAsync("#composer-input:not([disabled])");
        var messageId = (await sender.SendAsync(conversationId, prompt)).AssistantMessageId;
        await watcher.WaitForChunksAsync(messageId, 10);
        var onPage = $"#messages li.assistant[data-message-id='{messageId}']";
        await page.WaitForSelectorAsync(onPage);
        var before = watcher.ChunksOf(messageId).Max(c => c.Sequence);

        doomed.Process.Signal(Signals.Kill);
        var killed = Stopwatch.StartNew();
        // The pause a client sees: from the kill to the successor's first chunk (the one after the resume point).
        await Wait.UntilAsync(() => watcher.Resumed.FirstOrDefault(r => r.MessageId == messageId) is { } r && watcher.ChunksOf(messageId).Any(c => c.Sequence > r.FromSequence),
            TimeSpan.FromSeconds(45), "the answer was not carried on");
        output.WriteLine($"measured: takeover pause, SIGKILL → the successor's first chunk at the watcher: {killed.Elapsed.TotalSeconds:0.0} s (lease 3 s)");
        var finished = await watcher.WaitForFinishedAsync(messageId, TimeSpan.FromSeconds(60));

        Assert.Equal(MessageStatus.Completed, finished.Status);
        // The simulated model resumed at the token where it stopped, after the tool round it read from the buffer.
        Assert.Equal(Simulated.AfterTool + Simulated.Answer(prompt, Tokens), finished.Content);
        Assert.Equal([ChunkKinds.ToolCall, ChunkKinds.ToolResult, ChunkKinds.Text], finished.Parts!.Select(p => p.Kind)); // the tool ran once
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(messageId), finished); // one answer, contiguous sequences, once each
        var resumed = Assert.Single(watcher.Resumed, r => r.MessageId == messageId); // one instance carried it on
        Assert.InRange(resumed.FromSequence, before, finished.LastSequence - 1);
        StreamAssert.ExactlyOnceInOrder(await watcher.Hub.GetChunks(messageId, 0L), finished);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(messageId, database));
        var seen = await shown.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((messageId, finished.Content, finished.Content), (seen.MessageId, seen.Text.ToString(), seen.Finished!.Content));
        Assert.Equal(resumed.FromSequence, seen.ResumedFrom); // marked "resumed after a server restart"
        await page.WaitForSelectorAsync($"{onPage}[data-status='completed'] .badge:has-text('resumed after a server restart')");
        Assert.Equal(1, await page.Locator("#messages li.assistant").CountAsync()); // one answer on the page, not two
        Assert.EndsWith(finished.Content.Split(' ')[^1], (await page.InnerTextAsync($"{onPage} .text")).Trim(), StringComparison.Ordinal);
        // Usage counted once for the whole answer: the stopped instance's part (never reported) estimated, then the
        // successor's own; not twice, not only the successor's.
        var usage = Assert.Single(await watcher.Hub.GetUsage(null));
        var streamed = finished.Parts!.Sum(p => (long)p.Text.Length);
        Assert.Equal((1L, 1L), (usage.Answers, usage.EstimatedAnswers));
        Assert.InRange(usage.CompletionTokens, UsageCharge.Estimate(streamed), UsageCharge.Estimate(streamed) + 1);
        Assert.Equal((finished.Usage!.PromptTokens, finished.Usage.CompletionTokens, true), (usage.PromptTokens, usage.CompletionTokens, finished.Usage.Estimated));
    }

    [Fact]
    public async Task AnOwnerPausedPastItsLeaseIsFencedOutWhenItWakesAndAddsNothing()
    {
        // Through the Responses API: the woken owner stops reading the background response its successor resumed, and
        // must not cancel it at the provider (an answer it ended itself would).
        const string prompt = "carry me on while my server sleeps";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var survivors = await SurvivorsAsync(redis, database); // starts the fake OpenAI server
        var reply = FakeReply.Tokens(Tokens, 20); // 15 s: still streaming when the owner wakes, even on a busy machine
        cluster.FakeModel.EnqueueFor(prompt, reply);
        var paused = await HubInstance.StartAsync(await SettingsAsync(redis, database));
        await using var owner = paused;
        var (watcher, sender, messageId) = await StartAsync("takeover-paused", survivors.A, paused, prompt, model: "responses");
        await using var _ = watcher;
        await using var __ = sender;

        paused.Process.Signal(Signals.Stop);
        try
        {
            await Wait.UntilAsync(() => watcher.Resumed.Any(r => r.MessageId == messageId), TimeSpan.FromSeconds(45), "no instance carried the answer on");
            var from = watcher.Resumed.Single(r => r.MessageId == messageId).FromSequence;
            await Wait.UntilAsync(() => watcher.ChunksOf(messageId).Any(c => c.Sequence > from + 3), TimeSpan.FromSeconds(30), "the successor streamed nothing");
        }
        finally
        {
            paused.Process.Signal(Signals.Continue);
        }

        // Woken, the old owner finds its epoch stale: its appends, renewal and end are refused; it stops generating.
        await Wait.UntilAsync(() => paused.Process.Output.Any(l => l.Contains("taken over by another instance", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the woken owner did not find itself fenced out");
        var finished = await watcher.WaitForFinishedAsync(messageId, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(1)); // anything the old owner might still send would have come by now (the condition under test)

        Assert.Equal(MessageStatus.Completed, finished.Status);
        Assert.Equal(string.Concat(reply.Deltas), finished.Content);
        Assert.Single(watcher.AllFinishedOf(messageId)); // the fenced owner ended nothing, not even a repeat of the end
        var response = Assert.Single(cluster.FakeModel.Responses.Values, r => r.Prompt == prompt);
        Assert.Equal("completed", response.Status); // generated to its end for the successor: the fenced owner cancelled nothing
        Assert.DoesNotContain(cluster.FakeModel.Requests, r => r.Path == $"/v1/responses/{response.Id}/cancel");
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(messageId), finished); // no chunk of the old owner after the takeover
        Assert.Single(watcher.Resumed, r => r.MessageId == messageId);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(messageId, database));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnOwnerPausedBeforeItsFirstTokenCancelsTheBackgroundResponseItsSuccessorNeverSaw(bool silentForEver)
    {
        // The owner's background response had given nothing when its instance paused: no chunk carries its id, so the
        // successor cannot resume it and asks the model again. Woken and fenced, the owner is the only one that knows
        // that response: it must cancel it, or it is generated (and billed) at the provider for nobody. Either the
        // response stays silent, or its first tokens come while the owner sleeps (its first chunk is then refused).
        var prompt = silentForEver ? "pause my server before my first token" : "pause my server while my first tokens come";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var survivors = await SurvivorsAsync(redis, database); // starts the fake OpenAI server
        var silent = silentForEver
            ? FakeReply.Tokens(50, 25) with { StallAfter = 0 }
            : FakeReply.Tokens(400, 25) with { FirstDelay = TimeSpan.FromSeconds(4) }; // 20 s: still generating when the owner wakes
        var again = FakeReply.Tokens(20, 50);
        cluster.FakeModel.EnqueueFor(prompt, silent);
        cluster.FakeModel.EnqueueFor(prompt, again);
        var paused = await HubInstance.StartAsync(await SettingsAsync(redis, database));
        await using var owner = paused;
        await using var watcher = await cluster.ConnectAsync(survivors.A.Url, "takeover-silent");
        await using var sender = await cluster.ConnectAsync(paused.Url, "takeover-silent");
        var messageId = (await sender.SendAsync((await watcher.CreateConversationAsync()).Id, prompt, model: "responses")).AssistantMessageId;
        await Wait.UntilAsync(() => cluster.FakeModel.Responses.Values.Any(r => r.Prompt == prompt), TimeSpan.FromSeconds(30), "the owner did not ask the model");
        var first = cluster.FakeModel.Responses.Values.Single(r => r.Prompt == prompt);

        paused.Process.Signal(Signals.Stop);
        Assert.Equal(0, first.GeneratedDeltas); // paused before its first token came (4 s after the request at the soonest)
        try
        {
            await Wait.UntilAsync(() => watcher.Resumed.Any(r => r.MessageId == messageId), TimeSpan.FromSeconds(45), "no instance carried the answer on");
            if (!silentForEver)
            {
                // Its first tokens wait in the sleeping owner's socket: woken, it relays one (the fence refuses it).
                await Wait.UntilAsync(() => first.GeneratedDeltas > 0, TimeSpan.FromSeconds(30), "the owner's response gave nothing");
            }
        }
        finally
        {
            paused.Process.Signal(Signals.Continue);
        }

        var finished = await watcher.WaitForFinishedAsync(messageId, TimeSpan.FromSeconds(60));
        Assert.Equal(MessageStatus.Completed, finished.Status);
        Assert.Equal(string.Concat(again.Deltas), finished.Content);

        // Before: the fenced owner cancelled nothing ("the successor reads it"), and its response stayed in progress.
        await Wait.UntilAsync(() => first.Status == "cancelled", TimeSpan.FromSeconds(30), "the woken owner left its own background response generating");
        Assert.Single(watcher.AllFinishedOf(messageId));
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(messageId, database));
    }

    [Fact]
    public async Task AResumedBackgroundResponseCancelledBeforeItGoesOnIsChargedForWhatItsDeadInstanceStreamed()
    {
        // Through the Responses API the successor resumes the dead owner's response; the provider would report the
        // whole response's usage at its end. Cancelled before that end (here: the response stalls after 12 tokens, so
        // the successor reads nothing more), nobody reported anything: the estimate must still cover the dead owner's
        // request and tokens, once.
        const string prompt = "charge me for what my dead server streamed";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var overrides = await OverridesAsync(redis, database);
        var reply = FakeReply.Tokens(300, 25) with { StallAfter = 12 };
        cluster.FakeModel.EnqueueFor(prompt, reply);
        var hubs = await shared.GetAsync(cluster, overrides);
        await using var doomed = await HubInstance.StartAsync(cluster.SettingsWith(overrides));
        await using var watcher = await cluster.ConnectAsync(hubs[0].Url, "takeover-charged");
        await using var sender = await cluster.ConnectAsync(doomed.Url, "takeover-charged");
        var sent = await sender.SendAsync((await watcher.CreateConversationAsync()).Id, prompt, model: "responses");
        var streamed = string.Concat(reply.Deltas.Take(12));
        await Wait.UntilAsync(() => watcher.TextOf(sent.AssistantMessageId) == streamed, TimeSpan.FromSeconds(30), "the owner did not stream the 12 tokens"); // in 12 chunks or fewer

        // The successor announces the resume, then reads the conversation (its row in `conversations`, which the takeover
        // does not touch) for its request: held here, so the cancel comes while it reads (before: that read was cut, and
        // the dead instance's request was charged nothing).
        await using var db = new Npgsql.NpgsqlConnection(cluster.Postgres.ConnectionString(database));
        await db.OpenAsync();
        await using var hold = await db.BeginTransactionAsync();
        await using (var lockConversations = new Npgsql.NpgsqlCommand("LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE", db, hold))
        {
            await lockConversations.ExecuteNonQueryAsync();
        }

        doomed.Process.Signal(Signals.Kill);
        await Wait.UntilAsync(() => watcher.Resumed.Any(r => r.MessageId == sent.AssistantMessageId), TimeSpan.FromSeconds(45), "no instance carried the answer on");
        Assert.True(await watcher.Hub.CancelGeneration(sent.AssistantMessageId));
        await Task.Delay(TimeSpan.FromSeconds(2)); // for the cancel to reach the successor (Redis); sooner or later, the outcome below is the same
        await hold.RollbackAsync();
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(60));

        Assert.Equal(MessageStatus.Cancelled, finished.Status);
        Assert.Equal(streamed, finished.Content);
        // Before: nothing charged (the dead owner's part counted as covered by a report that never came).
        var usage = Assert.Single(await watcher.Hub.GetUsage(null), u => u.Model == "responses");
        Assert.Equal((1L, 1L), (usage.Answers, usage.EstimatedAnswers));
        Assert.Equal(UsageCharge.Estimate(finished.Content.Length), usage.CompletionTokens);
        Assert.Equal(UsageCharge.Estimate(ChatCluster.ProviderSystemPrompt.Length + prompt.Length), usage.PromptTokens); // one request: a resume sends no prompt again
    }

    [Fact]
    public async Task OpenAIAnswersOfAKilledInstanceResumeTheResponsesStreamOrAskChatCompletionsToContinue()
    {
        // One kill, two answers streaming on the doomed instance: one through the Responses API (background mode), one
        // through chat completions. Models "responses" and "completions" at the fake OpenAI server.
        const string viaResponses = "resume my background response after a crash";
        const string viaCompletions = "continue my chat completion after a crash";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var overrides = await OverridesAsync(redis, database);
        var fake = cluster.FakeModel;
        var reply = FakeReply.Tokens(300, 25); // 12 s: both answers are still streaming when the kill comes, even on a busy machine
        fake.EnqueueFor(viaResponses, reply);
        fake.EnqueueFor(viaCompletions, reply);
        var continuation = new FakeReply { Deltas = [" and", " that", " is", " the", " rest."] };
        fake.EnqueueFor(ConversationContext.ContinueInstruction, continuation);
        var hubs = await shared.GetAsync(cluster, overrides);
        await using var doomed = await HubInstance.StartAsync(cluster.SettingsWith(overrides));
        await using var watcher = await cluster.ConnectAsync(hubs[0].Url, "takeover-openai");
        await using var sender = await cluster.ConnectAsync(doomed.Url, "takeover-openai");
        var first = await sender.SendAsync((await watcher.CreateConversationAsync()).Id, viaResponses, model: "responses");
        var second = await sender.SendAsync((await watcher.CreateConversationAsync()).Id, viaCompletions, model: "completions");
        await watcher.WaitForChunksAsync(first.AssistantMessageId, 10);
        await watcher.WaitForChunksAsync(second.AssistantMessageId, 10);

        doomed.Process.Signal(Signals.Kill);
        var viaResponsesEnd = await watcher.WaitForFinishedAsync(first.AssistantMessageId, TimeSpan.FromSeconds(60));
        var viaCompletionsEnd = await watcher.WaitForFinishedAsync(second.AssistantMessageId, TimeSpan.FromSeconds(60));

        foreach (var finished in new[] { viaResponsesEnd, viaCompletionsEnd })
        {
            Assert.Equal(MessageStatus.Completed, finished.Status);
            StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(finished.MessageId), finished);
            StreamAssert.ExactlyOnceInOrder(await watcher.Hub.GetChunks(finished.MessageId, 0L), finished);
            Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(finished.MessageId, database));
        }

        // Responses: generated once — one background response, each token generated once, read by the owner then resumed
        // by the successor (GET ...?stream=true&starting_after=N), not asked again...
        Assert.Equal(string.Concat(reply.Deltas), viaResponsesEnd.Content);
        var response = Assert.Single(fake.Responses.Values, r => r.Prompt == viaResponses);
        Assert.Equal(reply.Deltas.Count, response.GeneratedDeltas);
        Assert.Equal(2, response.Streams.Count);
        var resumedAfter = response.Streams[1][0] - 1;
        Assert.Contains(fake.Requests, r => r.Path == $"/v1/responses/{response.Id}" && r.Query.Contains($"starting_after={resumedAfter}", StringComparison.Ordinal));
        // ...right after the buffer's last chunk: the buffer held exactly the tokens up to that sequence number.
        var tokensBuffered = response.DeltaSequences.Count(s => s <= resumedAfter);
        Assert.InRange(tokensBuffered, 1, reply.Deltas.Count - 1);
        Assert.Equal(string.Concat(reply.Deltas.Take(tokensBuffered)), Buffered(watcher, first.AssistantMessageId));

        // Chat completions: no server-side resume — the successor sent the conversation, the partial answer as the
        // assistant's turn and the instruction to continue; the answer is the partial text, then what came.
        var partial = Buffered(watcher, second.AssistantMessageId);
        Assert.Equal(partial + string.Concat(continuation.Deltas), viaCompletionsEnd.Content);
        var asked = Assert.Single(fake.Requests, r => r.Messages.Count > 0 && r.Messages[^1].Content == ConversationContext.ContinueInstruction);
        Assert.Equal([("assistant", partial), ("user", ConversationContext.ContinueInstruction)], asked.Messages.TakeLast(2));
        Assert.Contains(("user", viaCompletions), asked.Messages);

        // Usage counted once: the Responses API reports the whole response's tokens at its end (to the successor); the
        // chat completion's first part was never reported, so it is estimated with the successor's reported part.
        var usage = await watcher.Hub.GetUsage(null);
        Assert.Equal((1L, 0L, 11L, reply.Deltas.Count), usage.Where(u => u.Model == "responses").Select(u => (u.Answers, u.EstimatedAnswers, u.PromptTokens, u.CompletionTokens)).Single());
        Assert.Equal((1L, 1L), usage.Where(u => u.Model == "completions").Select(u => (u.Answers, u.EstimatedAnswers)).Single());
    }

    [Fact]
    public async Task AResponsesApiAnswerWhoseOwnerDiedWhileItsToolRanAsksTheModelAgainInsteadOfEndingOnTheCall()
    {
        // Through the Responses API a tool call is its round's last output: the round is over at the provider, and the
        // function invocation runs the tool, then starts a new round. The owner killed while its tool ran (a search held
        // by a lock on the messages table), the successor resumed that round after the call, nothing more came, and the
        // answer was saved completed, empty, ending on a call nobody answered. Now it asks the model again, as it does
        // through chat completions (the model decides again whether to make the call).
        const string prompt = "look my earlier question up, then answer";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var overrides = await OverridesAsync(redis, database);
        var fake = cluster.FakeModel;
        fake.EnqueueFor(prompt, new FakeReply { ToolCall = new FakeToolCall("search_history", """{"query":"lease"}""", "call_doomed"), FirstDelay = TimeSpan.FromSeconds(5) });
        fake.EnqueueFor(prompt, new FakeReply { ToolCall = new FakeToolCall("search_history", """{"query":"lease"}""", "call_successor") });
        fake.EnqueueFor(prompt, new FakeReply { Deltas = ["Found", " it", "."] });
        var hubs = await shared.GetAsync(cluster, overrides);
        await using var doomed = await HubInstance.StartAsync(cluster.SettingsWith(overrides));
        await using var watcher = await cluster.ConnectAsync(hubs[0].Url, "takeover-tool");
        await using var sender = await cluster.ConnectAsync(doomed.Url, "takeover-tool");
        var sent = await sender.SendAsync((await watcher.CreateConversationAsync()).Id, prompt, model: "responses");
        await Wait.UntilAsync(() => fake.Responses.Values.Any(r => r.Prompt == prompt), TimeSpan.FromSeconds(30), "the model was not asked");
        // Taken after the owner read the conversation for its request, before the call comes (5 s later): its search waits.
        await using var db = new Npgsql.NpgsqlConnection(cluster.Postgres.ConnectionString(database));
        await db.OpenAsync();
        await using var hold = await db.BeginTransactionAsync();
        await using (var lockMessages = new Npgsql.NpgsqlCommand("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE", db, hold))
        {
            await lockMessages.ExecuteNonQueryAsync();
        }

        await Wait.UntilAsync(() => watcher.ChunksOf(sent.AssistantMessageId).Any(c => c.Kind == ChunkKinds.ToolCall), TimeSpan.FromSeconds(30), "the owner did not stream its tool call");
        doomed.Process.Signal(Signals.Kill);
        await hold.RollbackAsync();
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(60));

        Assert.Equal(MessageStatus.Completed, finished.Status);
        Assert.Equal("Found it.", finished.Content); // before: "", the parts ending on call_doomed
        Assert.Contains(finished.Parts ?? [], p => p.Kind == ChunkKinds.ToolResult && p.Text.Contains("call_successor", StringComparison.Ordinal));
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(finished.MessageId), finished);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(finished.MessageId, database));
        // Three rounds at the provider: the owner's call (read once, never resumed), the successor's call and its answer.
        var rounds = fake.Responses.Values.Where(r => r.Prompt == prompt)
            .OrderBy(r => int.Parse(r.Id["resp_fake".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, rounds.Count);
        Assert.Single(rounds[0].Streams);
    }

    [Fact]
    public async Task AResponsesApiAnswerWhoseOwnerDiedBetweenAToolsResultAndTheNextRoundAsksTheModelAgain()
    {
        // The owner ran the tool and streamed its result, then died before the next round's first event (here the
        // provider is slow to start it). The round that asked for the tool is over at the provider: resumed, it would
        // bring nothing more, and the answer would end on the result. The successor gives the model the call and its
        // result and asks again: the result's chunk carries no continuation (ReplayStream keeps the provider's only), so
        // there is no stream to resume.
        const string prompt = "look it up, then tell me what you found";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var overrides = await OverridesAsync(redis, database);
        var fake = cluster.FakeModel;
        fake.EnqueueFor(prompt, new FakeReply { ToolCall = new FakeToolCall("search_history", """{"query":"found"}""", "call_once") });
        fake.EnqueueFor(prompt, new FakeReply { Deltas = ["never", " read"], CreatedDelay = TimeSpan.FromSeconds(30) }); // the owner's next round
        fake.EnqueueFor(ConversationContext.ContinueInstruction, new FakeReply { Deltas = ["Found", " nothing", "."] });
        var hubs = await shared.GetAsync(cluster, overrides);
        await using var doomed = await HubInstance.StartAsync(cluster.SettingsWith(overrides));
        await using var watcher = await cluster.ConnectAsync(hubs[0].Url, "takeover-after-tool");
        await using var sender = await cluster.ConnectAsync(doomed.Url, "takeover-after-tool");
        var sent = await sender.SendAsync((await watcher.CreateConversationAsync()).Id, prompt, model: "responses");
        await Wait.UntilAsync(() => watcher.ChunksOf(sent.AssistantMessageId).Any(c => c.Kind == ChunkKinds.ToolResult), TimeSpan.FromSeconds(30), "the owner did not stream its tool's result");

        doomed.Process.Signal(Signals.Kill);
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(60));

        Assert.Equal(MessageStatus.Completed, finished.Status);
        Assert.Equal("Found nothing.", finished.Content);
        Assert.Equal([ChunkKinds.ToolCall, ChunkKinds.ToolResult, ChunkKinds.Text], finished.Parts!.Select(p => p.Kind)); // the tool ran once
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(finished.MessageId), finished);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(finished.MessageId, database)); // its text is the reply to the call, its result and the instruction to go on
    }

    [Fact]
    public async Task AResumedResponseAfterAToolRoundRunsItsOwnToolCallAndIsChargedForEveryRound()
    {
        // A tool round, then a round that says something and calls the tool again, then the answer: three responses at
        // the provider, each reported to whoever read its end. The owner killed mid-way through the second round's
        // text, the successor resumes that response: it must run the call that comes at its end and ask for the third
        // round; and the resumed response's report is not the whole answer's (it was charged as if it were: the first
        // round's request and call were never charged).
        const string prompt = "look it up twice, then tell me";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var overrides = await OverridesAsync(redis, database);
        var fake = cluster.FakeModel;
        // 6 s: still streaming when the kill comes, even on a busy machine; a character a token, so the provider's count
        // (a token a delta) is above the estimate (4 characters a token) and the report decides the charge.
        var preamble = FakeReply.Tokens(150, 25) with { Deltas = [.. Enumerable.Repeat("a", 150)] };
        var answer = new FakeReply { Deltas = [" Found", " it", " twice."] };
        fake.EnqueueFor(prompt, new FakeReply { ToolCall = new FakeToolCall("search_history", """{"query":"first"}""", "call_first") });
        fake.EnqueueFor(prompt, preamble with { ToolCall = new FakeToolCall("search_history", """{"query":"second"}""", "call_second"), Preamble = preamble.Deltas });
        fake.EnqueueFor(prompt, answer);
        var hubs = await shared.GetAsync(cluster, overrides);
        await using var doomed = await HubInstance.StartAsync(cluster.SettingsWith(overrides));
        await using var watcher = await cluster.ConnectAsync(hubs[0].Url, "takeover-tool-charge");
        await using var sender = await cluster.ConnectAsync(doomed.Url, "takeover-tool-charge");
        var sent = await sender.SendAsync((await watcher.CreateConversationAsync()).Id, prompt, model: "responses");
        await Wait.UntilAsync(() => watcher.ChunksOf(sent.AssistantMessageId).Count(c => c.Kind == ChunkKinds.Text) >= 10, TimeSpan.FromSeconds(30), "the owner did not stream the second round's text");

        doomed.Process.Signal(Signals.Kill);
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(60));

        Assert.Equal(MessageStatus.Completed, finished.Status);
        Assert.Equal(string.Concat(preamble.Deltas) + string.Concat(answer.Deltas), finished.Content);
        Assert.Contains(finished.Parts ?? [], p => p.Kind == ChunkKinds.ToolResult && p.Text.Contains("call_second", StringComparison.Ordinal));
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(finished.MessageId), finished);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(finished.MessageId, database));
        var resumed = Assert.Single(fake.Responses.Values, r => r.Prompt == prompt && r.Text == string.Concat(preamble.Deltas));
        Assert.Equal(2, resumed.Streams.Count); // resumed at the provider, not asked again
        // Before: (1, 0, 11, 151), the second response's report alone.
        var usage = Assert.Single(await watcher.Hub.GetUsage(null), u => u.Model == "responses");
        Assert.Equal((1L, 1L), (usage.Answers, usage.EstimatedAnswers));
        Assert.True(usage.PromptTokens > 11, $"the first round's request is not charged: {usage.PromptTokens} prompt tokens");
        // The two responses the successor read (the resumed one whole: 150 tokens and the call; the answer's 3), or the
        // estimate of what they streamed if more, and the estimate of the first round (its call and result), which no
        // report covers. Before: the resumed round's text its dead owner streamed counted in both.
        var firstRound = finished.Parts!.Take(2).ToList();
        Assert.Equal([ChunkKinds.ToolCall, ChunkKinds.ToolResult], firstRound.Select(p => p.Kind));
        var reported = preamble.Deltas.Count + 1 + answer.Deltas.Count;
        Assert.Equal(
            Math.Max(reported, UsageCharge.Estimate(finished.Parts!.Skip(2).Sum(p => (long)p.Text.Length))) + UsageCharge.Estimate(firstRound.Sum(p => (long)p.Text.Length)),
            usage.CompletionTokens);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACancelledAnswerOfTheResponsesApiCancelsItsBackgroundResponseAtTheProvider(bool beforeItsId)
    {
        // A background response goes on at the provider when its reader goes away (that is what lets a successor resume
        // it, above): an answer cancelled here must cancel it there, or it runs to its end and is billed. Its id comes
        // with its first event (here, before its id: 3 s late): a cancel before it (a stop right after sending) cut the
        // stream with nothing read, nobody knew the id, and the response ran to its end.
        var prompt = beforeItsId ? "cancel me before you know my response's id" : "cancel me at the provider too";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var (a, b) = await SurvivorsAsync(redis, database); // starts the fake OpenAI server
        var fake = cluster.FakeModel;
        var reply = beforeItsId
            ? FakeReply.Tokens(100, 25) with { CreatedDelay = TimeSpan.FromSeconds(3) }
            : FakeReply.Tokens(300, 25); // 12 s at the provider: still generating when the cancel comes
        fake.EnqueueFor(prompt, reply);
        var user = beforeItsId ? "cancel-before-id" : "takeover-cancel";
        await using var watcher = await cluster.ConnectAsync(a.Url, user);
        await using var sender = await cluster.ConnectAsync(b.Url, user);
        var sent = await sender.SendAsync((await watcher.CreateConversationAsync()).Id, prompt, model: "responses");
        if (beforeItsId)
        {
            await Wait.UntilAsync(() => fake.Responses.Values.Any(r => r.Prompt == prompt), TimeSpan.FromSeconds(30), "the model was not asked");
        }
        else
        {
            await watcher.WaitForChunksAsync(sent.AssistantMessageId, 3);
        }

        Assert.True(await watcher.Hub.CancelGeneration(sent.AssistantMessageId));
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal(MessageStatus.Cancelled, finished.Status);
        if (beforeItsId)
        {
            Assert.Equal("", finished.Content); // nothing after the cancel was relayed, though the stream was read on for the id
        }

        await AssertCancelledAtTheProviderAsync(prompt, reply, generatedAtLeast: beforeItsId ? 0 : 3);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId, database));
    }

    [Fact]
    public async Task AnOrphanOfTheResponsesApiEndedInterruptedCancelsItsBackgroundResponseAtTheProvider()
    {
        // Chat:Failover = Interrupt: the instance that sweeps an orphan ends it with the text it streamed. Its background
        // response must not go on generating at the provider (and be billed) for nobody.
        const string prompt = "stop at the provider too when my instance dies";
        var (redis, database) = (await cluster.SpareRedisAsync(), await cluster.SpareDatabaseAsync());
        var survivors = await SurvivorsAsync(redis, database);
        // Only the instance that starts the answer runs Interrupt: the mode is recorded with the answer, so the survivor
        // that sweeps it (Continue, like the other tests' instances here) ends it instead of carrying it on.
        var overrides = await OverridesAsync(redis, database);
        overrides["Chat:Failover"] = "Interrupt";
        var fake = cluster.FakeModel;
        var reply = FakeReply.Tokens(300, 25); // 12 s at the provider: still generating when the sweep ends the answer
        fake.EnqueueFor(prompt, reply);
        await using var doomed = await HubInstance.StartAsync(cluster.SettingsWith(overrides));
        await using var watcher = await cluster.ConnectAsync(survivors.A.Url, "interrupt-responses");
        await using var sender = await cluster.ConnectAsync(doomed.Url, "interrupt-responses");
        var sent = await sender.SendAsync((await watcher.CreateConversationAsync()).Id, prompt, model: "responses");
        await watcher.WaitForChunksAsync(sent.AssistantMessageId, 10);

        doomed.Process.Signal(Signals.Kill);
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(60));

        Assert.Equal(MessageStatus.Interrupted, finished.Status);
        await AssertCancelledAtTheProviderAsync(prompt, reply, generatedAtLeast: 10);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId, database));
    }

    /// <summary>
    /// The answer's background response at the fake OpenAI server was cancelled, once, and stopped generating before its
    /// end (it had generated at least <paramref name="generatedAtLeast"/> deltas).
    /// </summary>
    private async Task AssertCancelledAtTheProviderAsync(string prompt, FakeReply reply, int generatedAtLeast)
    {
        var fake = cluster.FakeModel;
        var response = Assert.Single(fake.Responses.Values, r => r.Prompt == prompt);
        Assert.True(response.Background);
        await Wait.UntilAsync(() => response.Status == "cancelled", TimeSpan.FromSeconds(15), $"the background response is {response.Status}, not cancelled");
        Assert.Single(fake.Requests, r => r.Path == $"/v1/responses/{response.Id}/cancel");
        Assert.InRange(response.GeneratedDeltas, generatedAtLeast, reply.Deltas.Count - 1); // stopped generating, not run to its end
    }

    /// <summary>The answer's text up to where it was resumed, as the watcher received it.</summary>
    private static string Buffered(ChatTestClient watcher, Guid messageId)
    {
        var resumed = Assert.Single(watcher.Resumed, r => r.MessageId == messageId);
        return string.Concat(watcher.ChunksOf(messageId).Where(c => c.Sequence <= resumed.FromSequence).DistinctBy(c => c.Sequence).OrderBy(c => c.Sequence).Select(c => c.Delta));
    }

    /// <summary>A watcher on <paramref name="watching"/>, a sender (same user) on <paramref name="owner"/>, which generates (with <paramref name="model"/>, else the default); returns once 10 chunks arrived.</summary>
    private async Task<(ChatTestClient Watcher, ChatTestClient Sender, Guid MessageId)> StartAsync(string user, HubInstance watching, HubInstance owner, string prompt, string? model = null)
    {
        var watcher = await cluster.ConnectAsync(watching.Url, user);
        var sender = await cluster.ConnectAsync(owner.Url, user);
        var conversation = await watcher.CreateConversationAsync();
        var sent = await sender.SendAsync(conversation.Id, prompt, model: model);
        await watcher.WaitForChunksAsync(sent.AssistantMessageId, 10);
        return (watcher, sender, sent.AssistantMessageId);
    }

    private const int Tokens = 300;

    /// <summary>Two hubs on <paramref name="redis"/> with the owners' settings, shared by the tests: the instances that may carry an answer on.</summary>
    private async Task<(HubInstance A, HubInstance B)> SurvivorsAsync(RedisServer redis, string database)
    {
        var hubs = await shared.GetAsync(cluster, await OverridesAsync(redis, database));
        return (hubs[0], hubs[1]);
    }

    /// <summary>
    /// On <paramref name="redis"/> and <paramref name="database"/> (the fixture's hubs must not sweep these answers, nor
    /// these hubs the fixture's); a lease of 3 s, so a stopped owner is noticed within seconds. Every instance on them has
    /// the same catalog (any survivor may carry on any answer): <c>simulated</c>, the default, at 20 tokens a second,
    /// offered search_history (asked to "search", it calls it first); <c>responses</c> and <c>completions</c> at the
    /// fake OpenAI server, through the Responses API and chat completions.
    /// </summary>
    private async Task<Dictionary<string, string>> SettingsAsync(RedisServer redis, string database) => cluster.SettingsWith(await OverridesAsync(redis, database));

    private async Task<Dictionary<string, string>> OverridesAsync(RedisServer redis, string database)
    {
        var fake = await cluster.FakeModelSettingsAsync();
        var overrides = new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["ConnectionStrings:Postgres"] = cluster.Postgres.ConnectionString(database),
            ["Chat:GenerationLease"] = "00:00:03",
            ["Chat:Model:StallTimeout"] = "00:00:15",
            ["Chat:DefaultModel"] = "simulated",
            ["Chat:Models:simulated:Provider"] = "Simulated",
            ["Chat:Models:simulated:Simulated:TokensPerSecond"] = "20",
            ["Chat:Models:simulated:Simulated:ResponseTokens"] = Tokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Chat:Models:simulated:Tools:0"] = "search_history",
            ["Chat:Models:responses:Tools:0"] = "search_history",
        };
        foreach (var (model, api) in new[] { ("responses", "Responses"), ("completions", "ChatCompletions") })
        {
            foreach (var key in new[] { "Provider", "Endpoint", "Name", "ApiKey" })
            {
                overrides[$"Chat:Models:{model}:{key}"] = fake[$"Chat:Model:{key}"];
            }

            overrides[$"Chat:Models:{model}:Api"] = api;
        }

        return overrides;
    }
}
