using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Auth;

/// <summary>The SignalR user id is the token's user id claim (<c>Auth:UserIdClaim</c>), the id conversations are owned by.</summary>
internal sealed class SubjectUserIdProvider(IOptions<AuthOptions> options) : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection) => ChatUsers.Id(connection.User, options.Value);
}
