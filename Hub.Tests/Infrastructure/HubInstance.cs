namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>One Hub instance as a real process (dotnet ChatStreaming.Hub.dll) on a loopback port of its own.</summary>
internal sealed partial class HubInstance : IAsyncDisposable
{
    private static readonly Lock HubLog = new();

    private readonly ChildProcess process;

    private HubInstance(ChildProcess process, string url)
    {
        this.process = process;
        Url = url;
    }

    public string Url { get; }

    public ChildProcess Process => process;

    /// <summary>
    /// The hub the tests start: <c>CHATSTREAMING_HUB</c> when set (./test.sh sets it to the hub it publishes like the
    /// image, compiled ReadyToRun: README, "Tests"), else the Hub build next to this test build (same configuration).
    /// </summary>
    public static string HubAssembly => Environment.GetEnvironmentVariable("CHATSTREAMING_HUB") is { Length: > 0 } published
        ? File.Exists(published) ? published : throw new FileNotFoundException("CHATSTREAMING_HUB names no file", published)
        : BuildOutput.Assembly("Hub", "ChatStreaming.Hub.dll");

    /// <summary>
    /// Starts the process with <paramref name="settings"/> (configuration keys such as Chat:ReplayTtl) and waits until it is
    /// ready. It binds port 0 and the URL is the one it says it listens on: a port chosen beforehand could be bound by
    /// another process first, and the readiness check would then be answered by another test's hub.
    /// </summary>
    public static async Task<HubInstance> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var process = Launch(settings);
        var url = await ListeningUrlAsync(process);
        var instance = new HubInstance(process, url);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Wait.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                throw ExitedAtStart(process);
            }

            try
            {
                return (await http.GetAsync($"{url}/health/ready")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), $"hub at {url} did not become ready");
        return instance;
    }

    /// <summary>The address a <see cref="Launch"/>ed hub says it listens on (Kestrel's "Now listening on:" line).</summary>
    public static async Task<string> ListeningUrlAsync(ChildProcess process)
    {
        string? url = null;
        await Wait.UntilAsync(() =>
        {
            url = process.Output.Select(line => ListeningLine().Match(line)).FirstOrDefault(m => m.Success)?.Groups[1].Value;
            return url is not null || (process.HasExited ? throw ExitedAtStart(process) : false);
        }, TimeSpan.FromSeconds(60), "the hub did not say which port it listens on");
        return url!;
    }

    private static InvalidOperationException ExitedAtStart(ChildProcess process) =>
        new($"hub exited {process.ExitCode} at start:\n{string.Join('\n', process.Output)}");

    [System.Text.RegularExpressions.GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial System.Text.RegularExpressions.Regex ListeningLine();

    /// <summary>
    /// Starts the process without waiting for it (for start-up failures), on port 0: the port it gets is in its output
    /// (<see cref="ListeningUrlAsync"/>).
    /// </summary>
    public static ChildProcess Launch(IReadOnlyDictionary<string, string> settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["DOTNET_NOLOGO"] = "1",
            // No dynamic PGO comes from the Hub's own runtimeconfig (Hub.csproj); the suite-wide runtime knobs are in
            // Hub.Tests.runsettings. The Hub turns tiered compilation off for steady load (Hub.csproj); a test hub lives
            // minutes, and compiling every method optimized at start costs more CPU than it saves: ready in 1.6-1.8 s and
            // 1.7-2.0 s of CPU with it, against 2.6-2.9 s and 2.9-3.0 s without (this machine, a hub against local Redis
            // and Postgres).
            ["DOTNET_TieredCompilation"] = "1",
            ["Logging__LogLevel__Default"] = "Information",
            // The "Now listening on:" line a hub on port 0 is found by (ListeningUrlAsync), whatever a test sets the default to.
            ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
        };
        foreach (var (key, value) in settings)
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        if (Environment.GetEnvironmentVariable("CHATSTREAMING_HUBLOG") is { Length: > 0 } log)
        {
            // Which tests start hubs (README, "Tests"): the test class on the stack, one line per hub.
            var caller = new System.Diagnostics.StackTrace().GetFrames().Select(f => f.GetMethod()?.DeclaringType?.FullName ?? "")
                .FirstOrDefault(n => n.StartsWith("ChatStreaming.Hub.Tests.", StringComparison.Ordinal) && !n.Contains(".Infrastructure.", StringComparison.Ordinal));
            lock (HubLog)
            {
                File.AppendAllText(log, $"{caller?.Split('+')[0] ?? "(a fixture)"}\n"); // collections start hubs side by side
            }
        }

        return ChildProcess.Start("dotnet", [HubAssembly, "--urls", "http://127.0.0.1:0"], environment);
    }

    public async ValueTask DisposeAsync() => await process.DisposeAsync();
}
