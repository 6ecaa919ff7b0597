using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace ChatStreaming.Hub.Tests.Operations;

// In the redis-cluster collection for balance (the outages collection was the longest): start-up checks do not depend
// on the kind of Redis; the hubs that do start, start on the cluster.
[Collection(RedisClusterCollection.Name)]
public sealed class ConfigurationTests(ChatOnRedisCluster cluster, ITestOutputHelper output)
{
    public static TheoryData<string, string?, string> BadSettings => new()
    {
        { "ConnectionStrings:Redis", null, "ConnectionStrings:Redis is required" },
        { "ConnectionStrings:Postgres", null, "ConnectionStrings:Postgres is required" },
        { "ConnectionStrings:Postgres", "Host=127.0.0.1;Nonsense Key=1", "ConnectionStrings:Postgres is not a valid" },
        { "Chat:ReplayTtl", "forever", "Chat:ReplayTtl" },
        { "Chat:ReplayTtl", "00:00:00", "Chat:ReplayTtl must be a time span" },
        { "Chat:MaxConcurrentGenerations", "0", "Chat:MaxConcurrentGenerations must be between" },
        { "Chat:Model:Provider", "Nonexistent", "Chat:Model:Provider must be one of" },
        { "Chat:Model:Simulated:TokensPerSecond", "-1", "Chat:Model:Simulated:TokensPerSecond must be between" },
        { "Auth:SigningKey", "too-short", "Auth:SigningKey must be at least 32 characters" },
        { "Chat:Model:Api", "Soap", "Chat:Model:Api must be one of: ChatCompletions, Responses." },
        { "Chat:Model:Api", "Responses", "Chat:Model:Api Responses needs Chat:Model:Provider OpenAI or AzureOpenAI" },
        { "Chat:MaxMessagesPerConversation", "1", "Chat:MaxMessagesPerConversation must be between 2 and 1000000." },
        { "Chat:SendCallsPerMinutePerUser", "-1", "Chat:SendCallsPerMinutePerUser must be between 0 (no limit) and 1000000." },
        { "Chat:MaxChunkLinger", "00:00:05", "Chat:MaxChunkLinger must be a time span between 00:00:00 (never) and 00:00:01." },
        { "Chat:Clients:ImageSources:0", "https://images.example.com/path", "Chat:Clients:ImageSources must list origins" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task AMissingOrBadSettingStopsStartUpWithOneLineNamingTheKey(string key, string? value, string expected)
    {
        var settings = cluster.Settings.ToDictionary();
        settings.Remove(key);
        if (value is not null)
        {
            settings[key] = value;
        }
        else
        {
            // an empty environment value overrides appsettings and counts as missing
            settings[key] = "";
        }

        await RefusedLineAsync(settings, expected);
    }

    public static TheoryData<string, string, string> BadProviderSettings => new()
    {
        { "OpenAI", "Chat:Model:ApiKey", "Chat:Model:ApiKey is required when Chat:Model:Provider is OpenAI" },
        { "AzureOpenAI", "Chat:Model:Deployment", "Chat:Model:Deployment is required when Chat:Model:Provider is AzureOpenAI" },
        { "AzureOpenAI", "Chat:Model:ApiVersion", "Chat:Model:ApiVersion '1999-01-01' is not an API version" },
    };

    [Theory]
    [MemberData(nameof(BadProviderSettings))]
    public async Task AProviderWithoutItsKeysStopsStartUpWithOneLineNamingTheKey(string provider, string key, string expected)
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:Model:Provider"] = provider;
        settings["Chat:Model:Endpoint"] = "http://127.0.0.1:9";
        settings["Chat:Model:ApiKey"] = "k";
        settings["Chat:Model:Deployment"] = "d";
        settings[key] = key == "Chat:Model:ApiVersion" ? "1999-01-01" : "";
        var line = await RefusedLineAsync(settings, expected);

        Assert.DoesNotContain("=k", line, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadCatalogs => new()
    {
        { "Chat:Models:x:Provider=Nope", "Chat:Models:x:Provider must be one of" },
        { "Chat:Models:x:Provider=OpenAI", "Chat:Models:x:ApiKey is required when Chat:Models:x:Provider is OpenAI" },
        { "Chat:Models:x:Provider=Simulated;Chat:Models:x:Simulated:ResponseTokens=0", "Chat:Models:x:Simulated:ResponseTokens must be between" },
        { "Chat:Models:x:Provider=Simulated;Chat:Models:x:Tools:0=web_search", "Chat:Models:x:Tools names 'web_search', which is not a registered tool (registered: search_history)" },
        { "Chat:Models:x:Provider=Simulated;Chat:DefaultModel=y", "Chat:DefaultModel 'y' is not one of Chat:Models: x." },
        { "Chat:TokensPerDayPerUser=-1", "Chat:TokensPerDayPerUser must be 0 (no limit) or more." },
    };

    [Theory]
    [MemberData(nameof(BadCatalogs))]
    public async Task ABadModelCatalogStopsStartUpWithOneLineNamingTheEntrysKey(string keys, string expected)
    {
        var settings = cluster.Settings.ToDictionary();
        foreach (var pair in keys.Split(';'))
        {
            settings[pair[..pair.IndexOf('=')]] = pair[(pair.IndexOf('=') + 1)..];
        }

        await RefusedLineAsync(settings, expected);
    }

    /// <summary>Starts a hub with <paramref name="settings"/>: it must exit 2 with one "Configuration error:" line containing <paramref name="expected"/>.</summary>
    private static async Task<string> RefusedLineAsync(Dictionary<string, string> settings, string expected)
    {
        await using var process = HubInstance.Launch(settings);
        await process.ExitCodeAsync();

        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single(process.Output, l => l.StartsWith("Configuration error:", StringComparison.Ordinal));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain(process.Output, l => l.Contains("   at ", StringComparison.Ordinal)); // no stack trace
        return line;
    }

    [Fact]
    public async Task TheReadmesUserSecretsCommandConfiguresTheHubInDevelopment()
    {
        // A home of its own, so the test neither reads nor writes the developer's secrets.
        var home = Directory.CreateTempSubdirectory("chat-secrets-").FullName;
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var environment = new Dictionary<string, string> { ["HOME"] = home, ["DOTNET_CLI_HOME"] = home, ["NUGET_PACKAGES"] = packages, ["DOTNET_NOLOGO"] = "1" };
        try
        {
            // README: dotnet user-secrets set Chat:Model:ApiKey sk-... --project Hub (here a key whose effect is visible).
            var took = Stopwatch.StartNew();
            await using (var set = ChildProcess.Start(
                "dotnet", ["user-secrets", "set", "Chat:Models:from-secrets:Provider", "Simulated", "--project", Path.Combine(BuildOutput.Root, "Hub")], environment))
            {
                await set.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token);
                Assert.True(set.ExitCode == 0, string.Join('\n', set.Output));
            }

            output.WriteLine($"measured: dotnet user-secrets set took {took.Elapsed.TotalSeconds:0.0} s");
            var settings = cluster.Settings.ToDictionary();
            settings["HOME"] = home;
            took.Restart();
            await using var hub = await HubInstance.StartAsync(settings);
            output.WriteLine($"measured: the hub with that HOME was ready in {took.Elapsed.TotalSeconds:0.0} s");
            await using var client = await cluster.ConnectAsync(hub.Url, "secrets");
            var models = await client.Hub.ListModels();

            Assert.Equal(["from-secrets"], models.Select(m => m.Name));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task OutsideDevelopmentASigningKeyIsRequired()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["ASPNETCORE_ENVIRONMENT"] = "Production";
        await using var process = HubInstance.Launch(settings);
        await process.ExitCodeAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains(process.Output, l => l.Contains("Auth:SigningKey is required outside Development", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DevelopmentTokensAreRefusedUnlessEnabled()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Auth:EnableDevTokens"] = "false";
        await using var hub = await HubInstance.StartAsync(settings);
        using var http = new HttpClient();

        var response = await http.PostAsJsonAsync($"{hub.Url}{ChatHubPaths.DevToken}", new DevTokenRequest("alice"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
