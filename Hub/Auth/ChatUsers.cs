using System.Security.Claims;

namespace ChatStreaming.Server.Auth;

/// <summary>Who the caller is: the claim named by <c>Auth:UserIdClaim</c> (default <c>sub</c>), the id conversations belong to.</summary>
internal static class ChatUsers
{
    public static string? Id(ClaimsPrincipal user, AuthOptions options) =>
        user.Identity?.IsAuthenticated == true ? user.FindFirst(options.UserIdClaim)?.Value : null;
}
