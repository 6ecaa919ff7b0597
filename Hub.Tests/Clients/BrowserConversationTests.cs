using ChatStreaming.FakeOpenAI;
using Dapper;
using Microsoft.Playwright;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>
/// Managing conversations in both browser frontends, as a person would, in headless Chromium: the list live across
/// tabs on both instances, rename, delete, search, regenerate, edit, siblings, Markdown that cannot run anything.
/// </summary>
[Collection(ClientCollection.Name)]
public sealed class BrowserConversationTests(ChatCluster cluster, BrowserSession browser) : IDisposable
{
    private const string Answer = "#messages li.assistant";

    public static TheoryData<string> Apps => new() { "/", "/web/" };

    /// <summary>The Blazor pages this test signed in are free for the next test (<see cref="BrowserSession"/>).</summary>
    public void Dispose() => browser.ReleasePages();

    private static string Name(string app) => app == "/" ? "browser" : "blazor";

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task TheConversationListStaysLiveAcrossTabsOnBothInstancesThroughRenameAndDelete(string app)
    {
        var user = $"{Name(app)}-list";
        var first = await PageAsync(cluster.A, app, user);
        var second = await PageAsync(cluster.B, app, user);

        var id = await BrowserSession.NewConversationAsync(first);
        var item = $"#conversations li[data-conversation-id='{id}']";
        await second.WaitForSelectorAsync(item); // created in the other tab, no reload

        // A click whose press and release straddle a redraw of the list (the conversation renamed elsewhere meanwhile)
        // still opens it: the row is updated in place, not replaced under the pointer.
        var box = (await second.Locator($"{item} button.open").BoundingBoxAsync())!;
        await second.Mouse.MoveAsync(box.X + (box.Width / 2), box.Y + (box.Height / 2));
        await second.Mouse.DownAsync();
        await using (var elsewhere = await cluster.ConnectAsync(cluster.A, user))
        {
            await elsewhere.Hub.UpdateConversation(new UpdateConversationRequest(Guid.Parse(id), "Renamed while pressed"));
        }

        await second.WaitForSelectorAsync($"{item} button.open:text-is('Renamed while pressed')");
        await second.Mouse.UpAsync();
        await second.WaitForSelectorAsync("#composer-input:not([disabled])");
        await second.WaitForSelectorAsync("#conversation-title:text-is('Renamed while pressed')");

        await second.ClickAsync($"{item} button.rename");
        await second.FillAsync($"{item} .rename-input", "Renamed in the other tab");
        await second.PressAsync($"{item} .rename-input", "Enter");
        await first.WaitForSelectorAsync($"{item} button.open:text-is('Renamed in the other tab')");
        await first.WaitForSelectorAsync("#conversation-title:text-is('Renamed in the other tab')");
        await Screenshot(first, $"{Name(app)}-list-renamed");

        first.Dialog += (_, dialog) => dialog.AcceptAsync();
        await first.ClickAsync($"{item} button.delete");
        await second.WaitForSelectorAsync(item, new() { State = WaitForSelectorState.Detached });
        await second.WaitForSelectorAsync("#conversation-title:text-is('No conversation open')");
        await first.WaitForSelectorAsync(item, new() { State = WaitForSelectorState.Detached });

        // Both tabs left its group (the one that deleted it, and the other, which had it open: before, it only forgot
        // it), so neither instance is subscribed to the deleted conversation any more.
        var events = ChatStreaming.Worker.Redis.RedisKeys.ConversationEvents(Guid.Parse(id));
        var redis = cluster.RedisClient.GetServer(cluster.RedisClient.GetEndPoints()[0]);
        await Wait.UntilAsync(async () => await redis.SubscriptionSubscriberCountAsync(events) == 0, Wait.Default, "a tab stayed in the deleted conversation's group");
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task RegenerateAndEditKeepEveryVersionOneArrowAwayAndAReloadKeepsTheOrder(string app)
    {
        var page = await PageAsync(cluster.A, app, $"{Name(app)}-branches");
        var console = new List<string>();
        page.Console += (_, message) => console.Add(message.Text);
        await page.ClickAsync("#new-conversation");
        await SendAsync(page, "first question");
        await SendAsync(page, "second question");
        const string Question = "#messages > li:nth-child(3)", Reply = "#messages > li:nth-child(4)";
        var firstAnswerId = await page.GetAttributeAsync(Reply, "data-message-id");

        await page.ClickAsync($"{Reply} button.regenerate");
        await page.WaitForSelectorAsync($"{Reply} .siblings .position:text-is('2 / 2')");
        await page.WaitForSelectorAsync($"{Reply}[data-status='completed']");
        Assert.NotEqual(firstAnswerId, await page.GetAttributeAsync(Reply, "data-message-id"));
        await page.ClickAsync($"{Reply} button.previous");
        await page.WaitForSelectorAsync($"{Reply} .siblings .position:text-is('1 / 2')");
        Assert.Equal(firstAnswerId, await page.GetAttributeAsync(Reply, "data-message-id"));

        await page.ClickAsync($"{Question} button.edit");
        await page.FillAsync($"{Question} .edit-input", "second question, edited");
        await page.ClickAsync($"{Question} button.save");
        await page.WaitForSelectorAsync($"{Question} .siblings .position:text-is('2 / 2')");
        await page.WaitForSelectorAsync($"{Reply}[data-status='completed']");
        await Screenshot(page, $"{Name(app)}-branches");

        await page.ReloadAsync(); // the Blazor app boots .NET again: as long as a first load may take
        await page.WaitForSelectorAsync($"{Reply}[data-status='completed']", new() { Timeout = BrowserSession.BootTimeoutMs });
        Assert.Equal(["user", "assistant", "user", "assistant"], await page.Locator("#messages > li").EvaluateAllAsync<string[]>("els => els.map(e => e.classList.contains('user') ? 'user' : 'assistant')"));
        Assert.Equal(["first question", "second question, edited"], await page.Locator("#messages li.user .text").AllInnerTextsAsync());
        Assert.Equal("2 / 2", await page.InnerTextAsync($"{Question} .siblings .position"));
        Assert.DoesNotContain(console, line => line.Contains("Result given", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task ASearchHitOpensItsConversationAtTheMessageEvenOnAnOlderPage(string app)
    {
        var user = $"{Name(app)}-search";
        var (_, conversationId, _) = await cluster.SeedConversationAsync(user, pairs: 40);
        await using (var db = await cluster.Db.OpenConnectionAsync())
        {
            await db.ExecuteAsync("UPDATE messages SET content = 'question about the xylophone' WHERE conversation_id = @conversationId AND content = 'question 3'", new { conversationId });
        }

        var page = await PageAsync(cluster.B, app, user);
        await page.FillAsync("#search-input", "xylophones");
        await page.PressAsync("#search-input", "Enter");
        await page.WaitForSelectorAsync("#search-results button.hit");
        Assert.Contains("xylophone", await page.InnerTextAsync("#search-results mark"), StringComparison.Ordinal);
        await Screenshot(page, $"{Name(app)}-search");
        await page.ClickAsync("#search-results button.hit");

        await page.WaitForSelectorAsync("#messages li.found");
        Assert.Equal("question about the xylophone", await page.InnerTextAsync("#messages li.found .text"));
        await page.WaitForFunctionAsync("id => location.hash === '#c=' + id", conversationId.ToString()); // the hit's conversation is open
        Assert.Equal("question 2", await page.InnerTextAsync("#messages li.user >> nth=2 >> .text")); // paged back, in order
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task SigningOutAndInAsAnotherUserShowsNothingOfTheFirst(string app)
    {
        var first = $"{Name(app)}-first-user";
        var (_, conversationId, _) = await cluster.SeedConversationAsync(first, pairs: 2);
        var page = await PageAsync(cluster.A, app, first);
        await page.ClickAsync($"#conversations li[data-conversation-id='{conversationId}'] button.open");
        await page.WaitForFunctionAsync("id => location.hash === '#c=' + id", conversationId.ToString());
        await page.FillAsync("#search-input", "question");
        await page.ClickAsync("#search");
        await page.WaitForSelectorAsync("#search-results li");
        await page.FillAsync("#composer-input", "a draft of the first user");

        await page.ClickAsync("#sign-out");
        await BrowserSession.SignInAsync(page, $"{Name(app)}-second-user"); // the JavaScript page reloads first

        Assert.Equal("", await page.EvaluateAsync<string>("() => location.hash")); // nothing to restore at the next reload
        Assert.Equal(0, await page.Locator("#conversations li, #search-results li, #messages li").CountAsync());
        Assert.Equal("", await page.InputValueAsync("#composer-input"));
        Assert.True(await page.Locator("#composer-input").IsDisabledAsync()); // no conversation open
        Assert.Equal($"{Name(app)}-second-user", (await page.InnerTextAsync("#who")).Trim());
    }

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task HostileMarkdownFromTheModelOrTheUserNeverRunsAndRichMarkdownRenders(string app)
    {
        var hub = await cluster.ProviderHubAsync("OpenAI");
        cluster.FakeModel.Reset();
        string[] hostile =
        [
            "# Title\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\nconst x = 1;\n```\n\n",
            "<img src=x onerror=\"window.__pwned = 'img'\">\n\n<script>window.__pwned = 'script'</script>\n\n",
            "[click me](javascript:window.__pwned='link') and [safe](https://example.com/docs)\n\n",
            "<a href=\"#\" onclick=\"window.__pwned='click'\">x</a> <svg onload=\"window.__pwned='svg'\"></svg> ",
            "<iframe src=\"javascript:window.__pwned='iframe'\"></iframe><style>body{display:none}</style>",
        ];
        cluster.FakeModel.Enqueue(new FakeReply { Deltas = hostile, Delay = TimeSpan.FromMilliseconds(20) });
        var page = await PageAsync(hub.Url, app, $"{Name(app)}-hostile");
        await page.ClickAsync("#new-conversation");
        await page.FillAsync("#composer-input", "<img src=x onerror=\"window.__pwned='user'\"> **not bold**");
        await page.PressAsync("#composer-input", "Enter");
        await page.WaitForSelectorAsync($"{Answer}[data-status='completed']");
        await page.WaitForFunctionAsync("() => document.querySelector('#messages li.assistant .text table')");
        await page.ClickAsync($"{Answer} a:text-is('click me')");
        await page.ReloadAsync();
        await page.WaitForSelectorAsync($"{Answer}[data-status='completed'] .text table", new() { Timeout = BrowserSession.BootTimeoutMs });
        await page.ClickAsync($"{Answer} a:text-is('click me')");

        Assert.Null(await page.EvaluateAsync<string?>("() => window.__pwned ?? null"));
        Assert.Equal(0, await page.Locator("#messages script, #messages iframe, #messages style, #messages [onerror], #messages [onclick], #messages [onload]").CountAsync());
        var href = await page.GetAttributeAsync($"{Answer} a:text-is('click me')", "href");
        Assert.True(href is null || !href.Contains("javascript", StringComparison.OrdinalIgnoreCase), $"a javascript: link survived: {href}");
        Assert.Equal("_blank", await page.GetAttributeAsync($"{Answer} a[href='https://example.com/docs']", "target"));
        Assert.Equal(1, await page.Locator($"{Answer} .text h1").CountAsync());
        Assert.Equal(2, await page.Locator($"{Answer} .text ul li").CountAsync());
        Assert.Equal("const x = 1;", (await page.InnerTextAsync($"{Answer} .text pre code")).Trim());
        Assert.Equal("<img src=x onerror=\"window.__pwned='user'\"> **not bold**", await page.InnerTextAsync("#messages li.user .text")); // as typed
        Assert.True(await page.IsVisibleAsync("#messages"));
        await Screenshot(page, $"{Name(app)}-markdown");
    }

    private Task<IPage> PageAsync(string baseUrl, string app, string user) => browser.SignedInPageAsync(baseUrl, app, user);

    private static async Task SendAsync(IPage page, string text)
    {
        var answers = await page.Locator(Answer).CountAsync();
        await page.WaitForSelectorAsync("#composer-input:not([disabled])");
        await page.FillAsync("#composer-input", text);
        await page.PressAsync("#composer-input", "Enter");
        await page.WaitForFunctionAsync(
            "n => document.querySelectorAll(\"#messages li.assistant[data-status='completed']\").length > n", answers, new() { Timeout = 20_000 });
    }

    private static Task Screenshot(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserSession.ScreenshotDirectory, $"{name}.png") });
}
