using System.Net;
using System.Net.WebSockets;

namespace ChatStreaming.Hub.Tests.Security;

/// <summary>Browser origins outside Cors:AllowedOrigins are refused, WebSocket upgrades included; allowed ones work.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OriginTests(ChatCluster cluster)
{
    private const string Allowed = "https://app.example.com";
    private const string Foreign = "https://evil.example.net";

    [Fact]
    public async Task RequestsAndWebSocketUpgradesFromForeignOriginsAreRefusedAllowedOnesWork()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Cors:AllowedOrigins:0"] = Allowed;
        await using var hub = await HubInstance.StartAsync(settings);
        var token = await cluster.TokenAsync("origins");

        Assert.Equal(HttpStatusCode.Forbidden, (await NegotiateAsync(hub.Url, token, Foreign)).StatusCode);
        var allowed = await NegotiateAsync(hub.Url, token, Allowed);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(Allowed, allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(HttpStatusCode.OK, (await NegotiateAsync(hub.Url, token, hub.Url)).StatusCode); // the hub's own pages

        var refused = await Assert.ThrowsAsync<WebSocketException>(() => UpgradeAsync(hub.Url, token, Foreign));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
        using var socket = await UpgradeAsync(hub.Url, token, Allowed);
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    private static async Task<HttpResponseMessage> NegotiateAsync(string url, string token, string origin)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{url}{ChatHubPaths.Hub}/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        request.Headers.Add("Origin", origin);
        return await http.SendAsync(request);
    }

    private static async Task<ClientWebSocket> UpgradeAsync(string url, string token, string origin)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", origin);
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        await socket.ConnectAsync(new Uri($"{url.Replace("http", "ws", StringComparison.Ordinal)}{ChatHubPaths.Hub}"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        return socket;
    }
}
