using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using ChatStreaming.FakeOpenAI;
using Microsoft.Playwright;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>
/// The two browser frontends, used as a person would, in headless Chromium against the running hubs: the JavaScript
/// page at "/" and the Blazor WebAssembly app at "/web/" (same markup ids, so the same flows run on both).
/// </summary>
[Collection(ClientCollection.Name)]
public sealed class BrowserTests(ChatCluster cluster, BrowserSession browser) : IDisposable
{
    private const string Answer = "#messages li.assistant";

    public static TheoryData<string> Apps => new() { "/", "/web/" };

    /// <summary>The Blazor pages this test signed in are free for the next test (<see cref="BrowserSession"/>).</summary>
    public void Dispose() => browser.ReleasePages();

    private static string Name(string app) => app == "/" ? "browser" : "blazor";

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task AUserSignsInSendsAndWatchesTheAnswerStreamToTheSavedText(string app)
    {
        var page = await browser.SignedInPageAsync(cluster.A, app, $"{Name(app)}-basic");
        await page.ClickAsync("#new-conversation");
        await page.FillAsync("#composer-input", "hello from the browser");
        await page.PressAsync("#composer-input", "Enter");

        // Streaming text, or (a one-second answer on a busy machine, the Blazor app behind) already the end.
        await page.WaitForSelectorAsync($"{Answer}[data-status='streaming'] .text:not(:empty), {Answer}[data-status='completed']");
        await Screenshot(page, $"{Name(app)}-streaming");
        await page.WaitForSelectorAsync($"{Answer}[data-status='completed']");
        await Screenshot(page, $"{Name(app)}-completed");

        var saved = await SavedAnswerAsync(page);
        await AssertShowsAsync(page, Answer, saved.Content);
        Assert.Equal(MessageStatus.Completed, saved.Status);
        Assert.Equal("Completed", await page.InnerTextAsync($"{Answer} .badge"));
        Assert.Equal("hello from the browser", await page.InnerTextAsync("#messages li.user .text"));
    }

    [Fact]
    public async Task ThePageWorksThroughNginxInFrontOfBothInstances()
    {
        // The page negotiates (for stateful reconnect): nginx must keep its negotiate and its connection together.
        await using var nginx = await NginxServer.StartAsync([cluster.A, cluster.B]);
        var page = await browser.NewPageAsync(nginx.Url);
        await page.GotoAsync("/");
        await BrowserSession.SignInAsync(page, "browser-nginx");
        for (var i = 0; i < 3; i++)
        {
            await BrowserSession.NewConversationAsync(page); // after a reload, not the conversation it restored
            await page.FillAsync("#composer-input", $"through nginx {i}");
            await page.PressAsync("#composer-input", "Enter");
            await page.WaitForSelectorAsync($"#messages li.user .text:text-is('through nginx {i}')"); // this round's conversation
            await page.WaitForSelectorAsync($"{Answer}[data-status='completed']");
            var saved = await SavedAnswerAsync(page);
            await AssertShowsAsync(page, Answer, saved.Content);
            await page.ReloadAsync(); // a new negotiate and connection each round
            await page.WaitForSelectorAsync("#new-conversation");
            await page.WaitForSelectorAsync("#connection:text('Connected')");
        }
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task StopCancelsTheAnswerAndThePageShowsWhatWasSaved(string app)
    {
        // 60 s of answer: only the click ends it, however late a busy machine shows it streaming.
        var page = await SlowAnswerPageAsync(app, $"{Name(app)}-stop", seconds: 60);

        await page.ClickAsync("#stop");
        await BrowserSession.WaitForAsync(page, $"{Answer}[data-status='cancelled']");
        await Screenshot(page, $"{Name(app)}-cancelled");

        var saved = await SavedAnswerAsync(page);
        Assert.Equal(MessageStatus.Cancelled, saved.Status);
        await AssertShowsAsync(page, Answer, saved.Content);
        Assert.StartsWith("Cancelled", await page.InnerTextAsync($"{Answer} .badge"), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task ALongConversationShowsItsNewest50MessagesAndLoadsTheEarlierOnesInOrder(string app)
    {
        var user = $"{Name(app)}-long";
        var (_, conversationId, expected) = await cluster.SeedConversationAsync(user, pairs: 40);
        var page = await browser.SignedInPageAsync(cluster.B, app, user); // opening from the address: the second-tab test
        await page.ClickAsync($"#conversations li[data-conversation-id='{conversationId}'] button.open");
        await page.WaitForSelectorAsync("#composer-input:not([disabled])");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#messages li').length === 50");
        var newest = await page.Locator("#messages li .text").AllInnerTextsAsync();

        await page.ClickAsync("#load-earlier");
        await page.WaitForFunctionAsync("() => document.querySelectorAll('#messages li').length === 80");

        Assert.Equal(expected.TakeLast(50), newest);
        Assert.Equal(expected, await page.Locator("#messages li .text").AllInnerTextsAsync()); // every message once, in order
        Assert.False(await page.Locator("#load-earlier").IsVisibleAsync()); // nothing older left
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task ReloadingThePageMidAnswerStillEndsWithExactlyTheSavedAnswer(string app)
    {
        // 16 s of answer: a reload (the Blazor app boots again) on a busy machine still lands mid-answer.
        var page = await SlowAnswerPageAsync(app, $"{Name(app)}-reload", seconds: 16);

        await page.ReloadAsync();
        // Rebuilt from the snapshot: still streaming, or (a reload slower than the answer on a busy machine) already ended.
        await page.WaitForSelectorAsync($"{Answer}[data-status='streaming'], {Answer}[data-status='completed']", new() { Timeout = BrowserSession.BootTimeoutMs });
        await page.WaitForSelectorAsync($"{Answer}[data-status='completed']", new() { Timeout = 30_000 });

        var saved = await SavedAnswerAsync(page);
        await AssertShowsAsync(page, Answer, saved.Content);
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task ASecondTabOnTheOtherInstanceShowsTheSameAnswerLive(string app)
    {
        var user = $"{Name(app)}-tabs";
        // 8 s of answer: the second tab, starved of CPU on a busy machine, still sees it streaming.
        var first = await SlowAnswerPageAsync(app, user, send: false, seconds: 8);
        var conversationUrl = $"#c={await BrowserSession.OpenConversationIdAsync(first)}";
        var second = await browser.NewPageAsync(cluster.A, width: 390, height: 844); // a phone-width screen, another instance
        await second.GotoAsync($"{app}?protocol=messagepack{conversationUrl}"); // the second tab on the MessagePack protocol
        await BrowserSession.SignInAsync(second, user);
        await second.WaitForSelectorAsync("#composer-input:not([disabled])");

        await first.FillAsync("#composer-input", "seen everywhere");
        await first.PressAsync("#composer-input", "Enter");
        await BrowserSession.WaitForAsync(second, $"{Answer}[data-status='streaming'] .text:not(:empty)");
        await Screenshot(second, $"{Name(app)}-second-tab-phone");
        await BrowserSession.WaitForAsync(second, $"{Answer}[data-status='completed']");
        await BrowserSession.WaitForAsync(first, $"{Answer}[data-status='completed']");

        var saved = (await SavedAnswerAsync(first)).Content;
        await AssertShowsAsync(first, Answer, saved);
        await AssertShowsAsync(second, Answer, saved);
        Assert.Equal("seen everywhere", await second.InnerTextAsync("#messages li.user .text"));
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task AfterANewConnectionThePageShowsWhatCameWhileItWasAway(string app)
    {
        // The page's link is cut and comes back on the other instance, which never knew its connection: stateful
        // reconnect cannot bridge that, so the page gets a new connection, in no group. The question and answer another
        // tab sent meanwhile were never heard (no MessageAdded, no GenerationStarted): only the rejoin's snapshot has them.
        var user = $"{Name(app)}-away";
        await using var proxy = new TcpProxy(new Uri(cluster.A));
        var page = await browser.SignedInPageAsync(proxy.Url, app, user);
        try
        {
            var conversationId = Guid.Parse(await BrowserSession.NewConversationAsync(page));
            await using var elsewhere = await cluster.ConnectAsync(cluster.B, user);

            proxy.Redirect(new Uri(cluster.B));
            proxy.Cut(TimeSpan.FromSeconds(3));
            var sent = await elsewhere.SendAsync(conversationId, "sent while the page was away");
            var finished = await elsewhere.WaitForFinishedAsync(sent.AssistantMessageId);

            await BrowserSession.WaitForAsync(page, $"{Answer}[data-status='completed']");
            Assert.Equal("sent while the page was away", await page.InnerTextAsync("#messages li.user .text"));
            await AssertShowsAsync(page, Answer, finished.Content);
        }
        finally
        {
            await page.Context.CloseAsync(); // its proxy goes with this test: the page is not reused
        }
    }

    [Fact]
    public async Task ThePagesClientRejoinsForAnAnswerLeftOnAnotherBranchOnceNotForEver()
    {
        // chat-client.js's watchdog, as ChatSessionTests.AnAnswerLeftOnAnotherBranch… checks the .NET session's: an
        // answer whose question was edited, ended while the client had another conversation open, is not in the
        // conversation's snapshot (its branch is not shown), so no rejoin brings its end. Before: one a second, for ever.
        var hub = await cluster.LongAnswerHubAsync();
        var token = await cluster.TokenAsync("browser-off-branch");
        var page = await browser.NewPageAsync(hub.Url);
        try
        {
            await page.GotoAsync("/"); // the page's origin and its SignalR script, for the module below
            var rejoins = await page.EvaluateAsync<int>(
                """
                async (token) => {
                  const { ChatClient } = await import("/chat-client.js");
                  const until = async (done, what) => {
                    for (const end = Date.now() + 30000; !done(); await new Promise((r) => setTimeout(r, 50))) {
                      if (Date.now() > end) throw new Error(what);
                    }
                  };
                  const streamed = (client, id) => (client.answers.get(id)?.lastSequence ?? 0) > 0;
                  const ended = (client, id) => (client.answers.get(id)?.status ?? "streaming") !== "streaming";
                  const client = new ChatClient({ accessTokenFactory: () => token, quietLimitMs: 1000 });
                  const watcher = new ChatClient({ accessTokenFactory: () => token });
                  await client.start();
                  await watcher.start();
                  const elsewhere = await client.createConversation("elsewhere");
                  const branched = await client.createConversation("branched");
                  await client.open(branched.id);
                  await watcher.open(branched.id);
                  const first = await client.send("the question before its edit");
                  await until(() => streamed(client, first.assistantMessageId), "the first answer did not stream");
                  const edited = await client.edit(first.userMessageId, "the question edited");
                  await until(() => streamed(client, edited.assistantMessageId), "the edited question's answer did not stream");
                  // Marked off its branch by mistake (a snapshot taken as its branch changed): its next chunk says it
                  // streams after all, and it is watched again.
                  client.answers.get(edited.assistantMessageId).offBranch = true;
                  await until(() => !client.answers.get(edited.assistantMessageId).offBranch, "a chunk heard did not clear offBranch");
                  await client.open(elsewhere.id);
                  await client.cancel(first.assistantMessageId); // ends unheard: the client left its conversation
                  await client.cancel(edited.assistantMessageId);
                  await until(() => ended(watcher, first.assistantMessageId) && ended(watcher, edited.assistantMessageId), "the answers did not end");
                  await client.open(branched.id);
                  let rejoins = 0;
                  const open = client.open.bind(client);
                  client.open = (id) => { rejoins++; return open(id); };
                  await new Promise((r) => setTimeout(r, 5000));
                  await client.stop();
                  await watcher.stop();
                  return rejoins;
                }
                """, token);

            Assert.InRange(rejoins, 0, 1);
        }
        finally
        {
            await page.Context.CloseAsync();
        }
    }

    /// <summary>
    /// A page on an instance whose model answers slowly, with an answer streaming (or, without <paramref name="send"/>,
    /// the next one queued) that lasts <paramref name="seconds"/>. Five tokens a second: the page draws each one, and a
    /// faster pace would only add draws (the whole text parsed again each time) to the suite's CPU, not what is tested.
    /// </summary>
    private async Task<IPage> SlowAnswerPageAsync(string app, string user, int seconds, bool send = true)
    {
        const int TokensPerSecond = 5;
        var hub = await cluster.ProviderHubAsync("OpenAI");
        cluster.FakeModel.Reset();
        cluster.FakeModel.Enqueue(FakeReply.Tokens(seconds * TokensPerSecond, TokensPerSecond));
        var page = await browser.SignedInPageAsync(hub.Url, app, user);
        await BrowserSession.NewConversationAsync(page);
        if (send)
        {
            await page.FillAsync("#composer-input", "a long answer please");
            await page.ClickAsync("#send");
            await BrowserSession.WaitForAsync(page, $"{Answer}[data-status='streaming'] .text:not(:empty)");
        }

        return page;
    }

    /// <summary>The assistant message of the page's open conversation, as saved (REST, the page's own token).</summary>
    private static async Task<Message> SavedAnswerAsync(IPage page)
    {
        var conversationId = await BrowserSession.OpenConversationIdAsync(page);
        var token = await page.EvaluateAsync<string>("() => JSON.parse(localStorage.getItem('chatstreaming.session')).accessToken");
        using var http = new HttpClient { BaseAddress = new Uri(new Uri(page.Url).GetLeftPart(UriPartial.Authority)) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var messages = await http.GetFromJsonAsync<List<Message>>($"{ChatHubPaths.Conversations}/{conversationId}/messages");
        return Assert.Single(messages!, m => m.Role == MessageRole.Assistant);
    }

    /// <summary>
    /// The answer's text on screen is <paramref name="text"/>: what the page holds for it (<c>data-source</c>) is the
    /// exact text, and what it shows, rendered as Markdown, has the same words in the same order (the Markdown syntax —
    /// #, -, |, `, ** — and the spacing are the rendering's).
    /// </summary>
    private static async Task AssertShowsAsync(IPage page, string answer, string text)
    {
        await page.WaitForFunctionAsync("([selector, text]) => document.querySelector(selector + ' .text')?.dataset.source === text", new[] { answer, text });
        Assert.Equal(Words(text), Words(await page.InnerTextAsync($"{answer} .text")));
    }

    private static string Words(string text) => string.Join(' ', Regex.Split(text, @"[^\p{L}\p{N}]+").Where(w => w.Length > 0));

    private static Task Screenshot(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserSession.ScreenshotDirectory, $"{name}.png") });
}
