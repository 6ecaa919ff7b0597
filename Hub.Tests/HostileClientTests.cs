using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChatStreaming.Contracts;
using ChatStreaming.Hub.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.SignalR.Client;
using Xunit;

namespace ChatStreaming.Hub.Tests;

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

        var snapshot = await client.InvokeAsync<ConversationSnapshot>(ChatHubMethods.JoinConversation, conversation.Id);
        Assert.Equal(text, snapshot.Conversation.Title);
        Assert.Equal(text, snapshot.Messages[0].Content);
        Assert.Equal(finished.Content, snapshot.Messages[1].Content);
        Assert.Contains(text.Split(' ')[0], finished.Content, StringComparison.Ordinal); // the simulated model echoes the prompt's start
        StreamAssert.ExactlyOnceInOrder(client.ChunksOf(sent.AssistantMessageId), finished);
        await using var connection = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM information_schema.tables WHERE table_name = 'messages'"));
    }

    [Fact]
    public async Task TheRequestLogNeverContainsAnAccessToken()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Logging:LogLevel:Default"] = "Trace";
        settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace"; // an operator turning every log on
        await using var hub = await HubInstance.StartAsync(settings);
        var token = await cluster.TokenAsync("logged");
        using var http = new HttpClient();

        var negotiate = await http.PostAsync($"{hub.Url}{ChatHubPaths.Hub}/negotiate?negotiateVersion=1&access_token={token}", null);
        await using var client = await ChatTestClient.ConnectAsync(hub.Url, token);
        await client.CreateConversationAsync();

        Assert.True(negotiate.IsSuccessStatusCode);
        Assert.Contains(hub.Process.Output, l => l.Contains("Microsoft.AspNetCore", StringComparison.Ordinal)); // the log is on
        Assert.DoesNotContain(hub.Process.Output, l => l.Contains(token, StringComparison.Ordinal));
        Assert.DoesNotContain(hub.Process.Output, l => l.Contains("access_token=", StringComparison.Ordinal));
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
