using Microsoft.Playwright;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// Headless Debian Chromium driven by Playwright (no browser download), one for the whole clients collection. Missing
/// Chromium fails the tests loudly: .ci/run installs it.
/// </summary>
/// <remarks>
/// A Blazor page costs ~8 s of CPU to boot (.NET in WebAssembly), the JavaScript page ~2.5 s, and the suite runs on two
/// cores: a Blazor page a test is done with is kept booted, and the next test asking for a signed-in Blazor page on the
/// same instance gets it signed out and in again as its own user (the app signs out in place, forgetting everything of
/// the last user). A test class using <see cref="SignedInPageAsync"/> calls <see cref="ReleasePages"/> when a test ends.
/// </remarks>
public sealed class BrowserSession : IAsyncLifetime
{
    private IPlaywright? playwright;
    private readonly Dictionary<string, Stack<IPage>> idleBlazorPages = [];
    private readonly List<(string BaseUrl, IPage Page)> lentBlazorPages = [];

    private const string BlazorApp = "/web/";

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>How long a page may take to show its sign-in form: the Blazor app downloads and starts .NET first.</summary>
    public const int BootTimeoutMs = 90_000;

    /// <summary>Where screenshots go: TestResults/screenshots at the repository root (not committed).</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            return Directory.CreateDirectory(Path.Combine(BuildOutput.Root, "TestResults", "screenshots")).FullName;
        }
    }

    public async Task InitializeAsync()
    {
        var chromium = Executable.Find("chromium");
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task<IPage> NewPageAsync(string baseUrl, int width = 1100, int height = 760)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new ViewportSize { Width = width, Height = height } });
        context.SetDefaultTimeout(30_000); // a busy 2-core machine: the Blazor app alone takes seconds to boot
        return await context.NewPageAsync();
    }

    /// <summary>
    /// A page of <paramref name="app"/> ("/" or "/web/") at <paramref name="baseUrl"/>, signed in as <paramref name="user"/>
    /// and connected, with no conversation open: a Blazor page a finished test left, signed out and in again, or a new one.
    /// </summary>
    public async Task<IPage> SignedInPageAsync(string baseUrl, string app, string user)
    {
        var page = app == BlazorApp ? await ReusedBlazorPageAsync(baseUrl) : null;
        if (page is null)
        {
            page = await NewPageAsync(baseUrl);
            await page.GotoAsync(app);
        }

        if (app == BlazorApp)
        {
            lentBlazorPages.Add((baseUrl, page));
        }

        await SignInAsync(page, user);
        // Booted or reused, nothing of anyone else: no conversation open, no search hits, no #c= to restore.
        var leftover = await page.EvaluateAsync<string>(
            "() => `${location.hash}${document.querySelectorAll('#messages li, #search-results li').length || ''}`");
        if (leftover.Length > 0)
        {
            throw new InvalidOperationException($"{user}'s new session at {page.Url} shows what the last one left: {await DescribeAsync(page)}");
        }

        return page;
    }

    /// <summary>The Blazor pages <see cref="SignedInPageAsync"/> gave the test that ended are free for the next one.</summary>
    public void ReleasePages()
    {
        foreach (var (baseUrl, page) in lentBlazorPages)
        {
            if (!idleBlazorPages.TryGetValue(baseUrl, out var idle))
            {
                idleBlazorPages[baseUrl] = idle = new Stack<IPage>();
            }

            idle.Push(page);
        }

        lentBlazorPages.Clear();
    }

    /// <summary>An idle booted Blazor page at <paramref name="baseUrl"/>, signed out; null if none is left.</summary>
    private async Task<IPage?> ReusedBlazorPageAsync(string baseUrl)
    {
        while (idleBlazorPages.TryGetValue(baseUrl, out var idle) && idle.TryPop(out var page))
        {
            if (page.IsClosed)
            {
                continue;
            }

            // Signed in, or signed out, or (its test ended during a reload) still booting into either.
            await page.WaitForSelectorAsync("#user-name, #sign-out", new() { Timeout = BootTimeoutMs });
            if (await page.Locator("#sign-out").IsVisibleAsync())
            {
                await page.ClickAsync("#sign-out");
            }

            return page;
        }

        return null;
    }

    /// <summary>Signs <paramref name="user"/> in on a page showing (or booting into) the sign-in form, and waits until it is connected.</summary>
    public static async Task SignInAsync(IPage page, string user)
    {
        await page.WaitForSelectorAsync("#user-name", new() { Timeout = BootTimeoutMs });
        await page.FillAsync("#user-name", user);
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("#connection:text('Connected')");
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        playwright?.Dispose();
    }

    /// <summary>
    /// Clicks "New conversation" and waits until that conversation is the one open (its id in the URL, the composer
    /// enabled): typing earlier would go to the conversation open before, e.g. the one a reload restored.
    /// </summary>
    public static async Task<string> NewConversationAsync(IPage page)
    {
        var before = await page.EvaluateAsync<string>("() => location.hash");
        await page.ClickAsync("#new-conversation");
        await page.WaitForFunctionAsync(
            "before => location.hash !== before && /^#c=[0-9a-f-]{36}$/.test(location.hash) && !document.querySelector('#composer-input').disabled", before);
        return await OpenConversationIdAsync(page);
    }

    /// <summary>
    /// Waits for <paramref name="selector"/> like <see cref="IPage.WaitForSelectorAsync"/>; a timeout says what the page
    /// showed instead (its connection, error and each message's role, status and text), so a failure on a CI machine
    /// explains itself.
    /// </summary>
    public static Task WaitForAsync(IPage page, string selector, float? timeoutMs = null) =>
        DescribingTimeoutAsync(page, () => page.WaitForSelectorAsync(selector, new() { Timeout = timeoutMs }), "");

    /// <summary>
    /// Waits until <paramref name="expression"/> (a JavaScript function) returns a truthy value, like
    /// <see cref="IPage.WaitForFunctionAsync"/>; a timeout says what the page (and <paramref name="alongside"/>, e.g. the
    /// tab whose change it waits for) showed instead.
    /// </summary>
    public static Task WaitUntilAsync(IPage page, string expression, IPage? alongside = null) =>
        DescribingTimeoutAsync(page, () => page.WaitForFunctionAsync(expression), $" waiting for {expression}", alongside);

    /// <summary>Runs <paramref name="wait"/>; a Playwright timeout is thrown again with what the pages showed.</summary>
    private static async Task DescribingTimeoutAsync(IPage page, Func<Task> wait, string what, IPage? alongside = null)
    {
        try
        {
            await wait();
        }
        catch (TimeoutException e)
        {
            var other = alongside is null ? "" : $"\nThe page at {alongside.Url} showed: {await DescribeAsync(alongside)}";
            throw new TimeoutException($"{e.Message}{what}\nThe page at {page.Url} showed: {await DescribeAsync(page)}{other}", e);
        }
    }

    /// <summary>What the page shows, in one line: connection, error, title, model, and each message (role, status, text length, start).</summary>
    public static async Task<string> DescribeAsync(IPage page)
    {
        try
        {
            return await page.EvaluateAsync<string>("""
                () => {
                  const text = (id) => document.getElementById(id)?.textContent ?? "";
                  const messages = [...document.querySelectorAll("#messages li")].map((li) => {
                    const t = li.querySelector(".text")?.textContent ?? "";
                    return `${li.className}[${li.dataset.status ?? ""}] ${li.dataset.messageId ?? ""} ${t.length} chars "${t.slice(0, 40)}"`;
                  });
                  const model = document.getElementById("model-select");
                  return `connection "${text("connection")}", error "${text("error")}", hash ${location.hash}, title "${text("conversation-title")}", ` +
                    `model "${model?.value ?? "?"}"${model?.disabled ? " (disabled)" : ""}, messages: ${messages.join("; ") || "none"}`;
                }
                """);
        }
        catch (PlaywrightException e)
        {
            return $"(not readable: {e.Message})";
        }
    }

    /// <summary>
    /// The id of the conversation the page has open, once its URL says so (#c=id). Both apps put it there after the
    /// conversation is drawn (the Blazor app after its composer is enabled), so read it from the URL only this way.
    /// </summary>
    public static async Task<string> OpenConversationIdAsync(IPage page)
    {
        var hash = await page.WaitForFunctionAsync("() => /^#c=[0-9a-f-]{36}$/.test(location.hash) && location.hash");
        return (await hash.JsonValueAsync<string>()).Replace("#c=", "", StringComparison.Ordinal);
    }
}
