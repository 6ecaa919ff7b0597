using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace ChatStreaming.Hub.Tests.Security;

/// <summary>Clients that misbehave: bad tokens, huge frames, hostile text. The hub refuses clearly and loses nothing.</summary>
[Collection(ClusterCollection.Name)]
public sealed class HostileClientTests(ChatCluster cluster)
{
    // The key Development instances sign with (Auth:SigningKey unset); tests forge tokens with and without it.
    private const string DevelopmentKey = "chatstreaming-development-signing-key-not-for-production";

    public static TheoryData<string, string> BadTokens => new()
    {
        { "expired", Jwt(DevelopmentKey, DateTimeOffset.UtcNow.AddMinutes(-10)) },
        { "wrong signature", Jwt("another-key-that-is-long-enough-for-hmac-256", DateTimeOffset.UtcNow.AddMinutes(10)) },
        { "alg none", Jwt(null, DateTimeOffset.UtcNow.AddMinutes(10)) },
        { "garbage", "not.a.token" },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task ABadTokenIsRefusedWith401AtNegotiate(string kind, string token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{cluster.A}{ChatHubPaths.Hub}/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var viaHeader = await http.SendAsync(request);
        var viaQuery = await http.PostAsync($"{cluster.A}{ChatHubPaths.Hub}/negotiate?negotiateVersion=1&access_token={token}", null);

        Assert.True(viaHeader.StatusCode == HttpStatusCode.Unauthorized, kind);
        Assert.True(viaQuery.StatusCode == HttpStatusCode.Unauthorized, kind);
    }

    [Fact]
    public async Task AConnectionIsClosedWhenItsTokenExpires()
    {
        var token = Jwt(DevelopmentKey, DateTimeOffset.UtcNow.AddSeconds(3), subject: "expiring");
        await using var client = await ChatTestClient.ConnectAsync(cluster.A, token);
        var closed = new TaskCompletionSource();
        client.Connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };

        await closed.Task.WithTimeout(TimeSpan.FromSeconds(45)); // expiry plus the 30 s clock skew allowed
        Assert.Equal(HubConnectionState.Disconnected, client.Connection.State);
    }

    [Fact]
    public async Task AHugeFrameIsRefusedAndOtherClientsAreUnaffected()
    {
        await using var attacker = await cluster.ConnectAsync(cluster.A, "huge-frame");
        await using var bystander = await cluster.ConnectAsync(cluster.A, "bystander");
        var conversation = await attacker.CreateConversationAsync();

        var huge = new SendMessageRequest(conversation.Id, new string('x', 10 * 1024 * 1024));
        await Assert.ThrowsAnyAsync<Exception>(() => attacker.Connection.InvokeAsync<SendMessageResult>(ChatHubMethods.SendMessage, huge).WithTimeout());

        var mine = await bystander.CreateConversationAsync();
        var sent = await bystander.SendAsync(mine.Id, "still fine?");
        Assert.Equal(MessageStatus.Completed, (await bystander.WaitForFinishedAsync(sent.AssistantMessageId)).Status);
        await using var connection = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = @Id", new { conversation.Id }));
    }

    public static TheoryData<string> HostileTexts => new()
    {
        "'; drop table messages; --",
        "שלום עולם مرحبا",
        "emoji 👩‍👩‍👧‍👦 🚀 e\u0301\u0302 combining",
        "<script>alert(1)</script> \\\" {{ }}",
        "nul \0 inside, and the store's escape \uE000 and \uE0000 too",
    };

    [Theory]
    [MemberData(nameof(HostileTexts))]
    public async Task HostileTextIsStoredAndStreamedBackVerbatim(string text)
    {
        await using var client = await cluster.ConnectAsync(cluster.B, "verbatim");
        var conversation = await client.CreateConversationAsync(text);
        var sent = await client.SendAsync(conversation.Id, text);
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);

        var snapshot = await client.Hub.JoinConversation(conversation.Id);
        Assert.Equal(text, snapshot.Conversation.Title);
        Assert.Equal(text, snapshot.Messages[0].Content);
        Assert.Equal(finished.Content, snapshot.Messages[1].Content);
        Assert.Contains(text.Split(' ')[0], finished.Content, StringComparison.Ordinal); // the simulated model echoes the prompt's start
        StreamAssert.ExactlyOnceInOrder(client.ChunksOf(sent.AssistantMessageId), finished);
        await using var connection = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM information_schema.tables WHERE table_name = 'messages'"));
    }

    [Theory]
    [InlineData("Logging:LogLevel:Default", "Logging:LogLevel:Microsoft.AspNetCore")] // an operator turning every log on
    [InlineData("Logging:Console:LogLevel:Default", "Logging:Console:LogLevel:Microsoft.AspNetCore")] // provider-specific levels beat generic filters
    public async Task NoLogEverContainsAnAccessTokenWhateverTheLevels(string defaultKey, string aspNetCoreKey)
    {
        var settings = cluster.Settings.ToDictionary();
        settings[defaultKey] = "Trace";
        settings[aspNetCoreKey] = "Trace";
        await using var hub = await HubInstance.StartAsync(settings);
        var token = await cluster.TokenAsync("logged");
        using var http = new HttpClient();

        // As the JavaScript client connects a WebSocket: the token in the query string (negotiate, then the socket).
        var negotiate = await http.PostAsync($"{hub.Url}{ChatHubPaths.Hub}/negotiate?negotiateVersion=1&access_token={token}", null);
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        var connectionToken = JsonDocument.Parse(await negotiate.Content.ReadAsStringAsync()).RootElement.GetProperty("connectionToken").GetString();
        await socket.ConnectAsync(new Uri($"{hub.Url.Replace("http", "ws", StringComparison.Ordinal)}{ChatHubPaths.Hub}?id={connectionToken}&access_token={token}"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        await http.GetAsync($"{hub.Url}{ChatHubPaths.Conversations}?access_token={token}"); // not honoured outside the hub, and not logged either
        await using var client = await ChatTestClient.ConnectAsync(hub.Url, token);
        await client.CreateConversationAsync();

        Assert.True(negotiate.IsSuccessStatusCode); // the query token still signs the hub's requests in
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, socket.State);
        Assert.Contains(hub.Process.Output, l => l.Contains("Request starting", StringComparison.Ordinal)); // the request log is on
        Assert.DoesNotContain(hub.Process.Output, l => l.Contains(token, StringComparison.Ordinal));
        Assert.DoesNotContain(hub.Process.Output, l => l.Contains("access_token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BadCallsFromClientsGetClearErrorsAndNeverAnErrorLevelLog()
    {
        await using var hub = await HubInstance.StartAsync(cluster.Settings);
        await using var client = await cluster.ConnectAsync(hub.Url, "no-error-logs");
        var conversation = await client.CreateConversationAsync();

        string[] refusals =
        [
            (await Assert.ThrowsAsync<HubException>(() => client.SendAsync(conversation.Id, "nul in my key", "bad\0key"))).Message,
            (await Assert.ThrowsAsync<HubException>(() => client.SendAsync(conversation.Id, "too long a key", new string('k', 65)))).Message,
            (await Assert.ThrowsAsync<HubException>(() => client.SendAsync(conversation.Id, "not ascii", "clé"))).Message,
            (await Assert.ThrowsAsync<HubException>(() => client.SendAsync(Guid.NewGuid(), "nowhere"))).Message,
            (await Assert.ThrowsAsync<HubException>(() => client.Hub.JoinConversation(Guid.NewGuid()))).Message,
            (await Assert.ThrowsAsync<HubException>(() => client.Hub.GetChunks(Guid.NewGuid(), -1L))).Message,
        ];
        var sent = await client.SendAsync(conversation.Id, "and a good one", "good-key-1"); // the connection is fine
        await client.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.All(refusals.Take(3), m => Assert.EndsWith("clientMessageId must be 1 to 64 printable ASCII characters (letters, digits, space and punctuation)", m, StringComparison.Ordinal));
        Assert.All(refusals, m => Assert.DoesNotContain("   at ", m, StringComparison.Ordinal));
        Assert.DoesNotContain(hub.Process.Output, l => l.StartsWith("fail:", StringComparison.Ordinal) || l.StartsWith("crit:", StringComparison.Ordinal));
        Assert.DoesNotContain(hub.Process.Output, l => l.Contains("   at ", StringComparison.Ordinal)); // no stack trace per bad call
        // At the shipped levels an answer is one line (GenerationFinished), not two more per database call (Polly's
        // telemetry logs every pipeline execution at Information; appsettings.json keeps the "Polly" category at Warning).
        await Wait.UntilAsync(() => hub.Process.Output.Any(l => l.Contains($"Generation of {sent.AssistantMessageId}", StringComparison.Ordinal)), Wait.Default, "the answer's GenerationFinished line was not logged");
        Assert.DoesNotContain(hub.Process.Output, l => l.StartsWith("info: Polly", StringComparison.Ordinal));
    }

    /// <summary>An HS256 JWT signed with <paramref name="key"/>, or unsigned ("alg": "none") when it is null.</summary>
    private static string Jwt(string? key, DateTimeOffset expires, string subject = "forged")
    {
        static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = B64(JsonSerializer.SerializeToUtf8Bytes(new { alg = key is null ? "none" : "HS256", typ = "JWT" }));
        var payload = B64(JsonSerializer.SerializeToUtf8Bytes(new
        {
            sub = subject, iss = "chatstreaming", aud = "chatstreaming",
            nbf = expires.AddMinutes(-30).ToUnixTimeSeconds(), exp = expires.ToUnixTimeSeconds(),
        }));
        var signature = key is null ? "" : B64(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.ASCII.GetBytes($"{header}.{payload}")));
        return $"{header}.{payload}.{signature}";
    }
}
