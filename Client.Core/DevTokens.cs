using System.Net;
using System.Net.Http.Json;
using ChatStreaming.Contracts;

namespace ChatStreaming.Client.Core;

/// <summary>Development sign-in: <c>POST /api/auth/dev-token</c>, only served when the server has Auth:EnableDevTokens.</summary>
public static class DevTokens
{
    /// <param name="http">An <see cref="HttpClient"/> whose base address is the hub's.</param>
    /// <exception cref="SignInRefusedException">The server refused: the message says why, in words for a user.</exception>
    public static async Task<DevTokenResponse> RequestAsync(HttpClient http, string userName, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync(ChatHubPaths.DevToken, new DevTokenRequest(userName), cancellationToken);
        return response.StatusCode switch
        {
            HttpStatusCode.OK => (await response.Content.ReadFromJsonAsync<DevTokenResponse>(cancellationToken))!,
            HttpStatusCode.NotFound => throw new SignInRefusedException("sign-in refused: development tokens are disabled on this server", response.StatusCode),
            HttpStatusCode.BadRequest => throw new SignInRefusedException("sign-in refused: the user name must be 1-64 letters, digits, '.', '_', '-' or '@'", response.StatusCode),
            _ => throw new SignInRefusedException($"sign-in refused ({(int)response.StatusCode})", response.StatusCode),
        };
    }
}
