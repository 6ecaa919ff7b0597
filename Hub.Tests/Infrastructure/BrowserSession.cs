using Microsoft.Playwright;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// Headless Debian Chromium driven by Playwright (no browser download). Missing Chromium fails the tests loudly:
/// .ci/run installs it.
/// </summary>
public sealed class BrowserSession : IAsyncLifetime
{
    private IPlaywright? playwright;

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

    /// <summary>A page of <paramref name="app"/> ("/" or "/web/") at <paramref name="baseUrl"/>, signed in as <paramref name="user"/> and connected.</summary>
    public async Task<IPage> SignedInPageAsync(string baseUrl, string app, string user)
    {
        var page = await NewPageAsync(baseUrl);
        await page.GotoAsync(app);
        await page.WaitForSelectorAsync("#user-name", new() { Timeout = BootTimeoutMs });
        await page.FillAsync("#user-name", user);
        await page.ClickAsync("#sign-in");
        await page.WaitForSelectorAsync("#connection:text('Connected')");
        return page;
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
    public static async Task WaitForAsync(IPage page, string selector, float? timeoutMs = null)
    {
        try
        {
            await page.WaitForSelectorAsync(selector, new() { Timeout = timeoutMs });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nThe page at {page.Url} showed: {await DescribeAsync(page)}", e);
        }
    }

    /// <summary>What the page shows, in one line: connection, error, and each message (role, status, text length, start).</summary>
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
                  return `connection "${text("connection")}", error "${text("error")}", hash ${location.hash}, messages: ${messages.join("; ") || "none"}`;
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
