using System.Globalization;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>One Hub instance as a real process (dotnet ChatStreaming.Hub.dll) on a free loopback port.</summary>
internal sealed class HubInstance : IAsyncDisposable
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

    /// <summary>Starts the process with <paramref name="settings"/> (configuration keys such as Chat:ReplayTtl) and waits until it is ready.</summary>
    public static async Task<HubInstance> StartAsync(IReadOnlyDictionary<string, string> settings)
    {
        var url = $"http://127.0.0.1:{Ports.Free().ToString(CultureInfo.InvariantCulture)}";
        var process = Launch(settings, url);
        var instance = new HubInstance(process, url);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Wait.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"hub exited {process.ExitCode} at start:\n{string.Join('\n', process.Output)}");
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

    /// <summary>Starts the process without waiting for it (for start-up failures).</summary>
    public static ChildProcess Launch(IReadOnlyDictionary<string, string> settings, string url)
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

        return ChildProcess.Start("dotnet", [HubAssembly, "--urls", url], environment);
    }

    public async ValueTask DisposeAsync() => await process.DisposeAsync();
}
