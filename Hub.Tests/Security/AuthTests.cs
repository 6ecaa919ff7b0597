using System.Net;
using System.Net.Http.Headers;
using Dapper;

namespace ChatStreaming.Hub.Tests.Security;

/// <summary>
/// Production sign-in: an OpenID Connect issuer (a real one on loopback: discovery, JWKS, RS256) signs the tokens, its
/// keys rotate, and nothing else is accepted.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AuthTests(ChatCluster cluster)
{
    private const string ApiAudience = "api://chatstreaming";

    [Fact]
    public async Task AnOidcDeploymentAcceptsItsIssuersTokensAndOwnsConversationsByTheConfiguredUserIdClaim()
    {
        await using var issuer = await OidcIssuer.StartAsync();
        await using var hub = await OidcHubAsync(issuer);
        var token = issuer.Token(ApiAudience, new Dictionary<string, string> { ["sub"] = "pairwise-subject", ["oid"] = "entra-object-id-1", ["name"] = "Ada" });

        await using var client = await ChatTestClient.ConnectAsync(hub.Url, token);
        var conversation = await client.CreateConversationAsync("signed in with OIDC");
        var sent = await client.SendAsync(conversation.Id, "who am I?");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{hub.Url}{ChatHubPaths.Conversations}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var listed = await http.SendAsync(request);

        Assert.Equal(MessageStatus.Completed, finished.Status);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Contains(conversation.Id.ToString(), await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var db = await cluster.Db.OpenConnectionAsync();
        Assert.Equal("entra-object-id-1", await db.ExecuteScalarAsync<string>("SELECT owner_id FROM conversations WHERE id = @Id", new { conversation.Id }));
    }

    [Fact]
    public async Task AfterTheIssuerRotatesItsKeyTokensSignedWithTheNewKeyAreAcceptedWithoutARestart()
    {
        await using var issuer = await OidcIssuer.StartAsync();
        await using var hub = await OidcHubAsync(issuer);
        var claims = new Dictionary<string, string> { ["sub"] = "rotating-user", ["oid"] = "rotating-user" };
        var before = issuer.Token(ApiAudience, claims);
        Assert.Equal(HttpStatusCode.OK, await NegotiateAsync(hub.Url, before));

        issuer.RotateKey();
        var after = issuer.Token(ApiAudience, claims);

        // The hub has the old key cached; a token naming an unknown key makes the library fetch the JWKS again.
        await Wait.UntilAsync(async () => await NegotiateAsync(hub.Url, after) == HttpStatusCode.OK, TimeSpan.FromSeconds(15), "the rotated key was never accepted");
        Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(hub.Url, issuer.Token("api://another-api", claims))); // still checked after the refresh
    }

    [Fact]
    public async Task TokensFromAnotherIssuerForAnotherAudienceOrSignedWithTheSharedKeyAreRefused()
    {
        await using var issuer = await OidcIssuer.StartAsync();
        await using var impostor = await OidcIssuer.StartAsync();
        await using var hub = await OidcHubAsync(issuer);
        var claims = new Dictionary<string, string> { ["sub"] = "victim", ["oid"] = "victim" };

        Assert.Equal(HttpStatusCode.OK, await NegotiateAsync(hub.Url, issuer.Token(ApiAudience, claims)));
        Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(hub.Url, impostor.Token(ApiAudience, claims)));
        Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(hub.Url, impostor.Token(ApiAudience, claims, issuer: issuer.Url))); // its key, our name
        Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(hub.Url, issuer.Token("api://another-api", claims)));
        Assert.Equal(HttpStatusCode.Unauthorized, await NegotiateAsync(hub.Url, await cluster.TokenAsync("victim"))); // HS256, dev key
    }

    [Theory]
    [InlineData("Auth:EnableDevTokens", "true", "Auth:EnableDevTokens must be false outside Development")]
    [InlineData("Auth:SigningKey", "chatstreaming-development-signing-key-not-for-production", "Auth:SigningKey is a key published in the ChatStreaming repository")]
    [InlineData("Auth:SigningKey", "change-me-to-a-long-random-secret-of-32-chars-or-more", "Auth:SigningKey is a key published in the ChatStreaming repository")]
    [InlineData("Auth:Authority", "http://login.example.com", "Auth:Authority must be https")]
    [InlineData("Auth:Authority", "https://login.example.com", "Auth:Audience is required with Auth:Authority")]
    public async Task OutsideDevelopmentStartUpRefusesASignInThatLetsAnyoneBeAnyone(string key, string value, string expected)
    {
        var settings = cluster.Settings.ToDictionary();
        settings["ASPNETCORE_ENVIRONMENT"] = "Production";
        settings["Auth:SigningKey"] = "a-secret-of-our-own-that-nobody-else-knows-42";
        settings[key] = value;
        await using var process = HubInstance.Launch(settings);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        await Wait.UntilAsync(() => process.Output.Any(l => l.StartsWith("Configuration error:", StringComparison.Ordinal)), Wait.Default, "no configuration error was printed");

        Assert.Equal(2, process.ExitCode);
        var error = Assert.Single(process.Output, l => l.StartsWith("Configuration error:", StringComparison.Ordinal));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    private async Task<HubInstance> OidcHubAsync(OidcIssuer issuer)
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Auth:Authority"] = issuer.Url;
        settings["Auth:Audience"] = ApiAudience;
        settings["Auth:RequireHttpsMetadata"] = "false"; // a local issuer over http
        settings["Auth:UserIdClaim"] = "oid";
        settings["Auth:EnableDevTokens"] = "false";
        return await HubInstance.StartAsync(settings);
    }

    private static async Task<HttpStatusCode> NegotiateAsync(string hubUrl, string token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{hubUrl}{ChatHubPaths.Hub}/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
