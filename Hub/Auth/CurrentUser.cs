using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Auth;

/// <summary>
/// The signed-in caller of a REST request, injected once instead of a ClaimsPrincipal and the auth options in every
/// handler (as davidfowl/TodoApi does). Only routes that require authorization use it.
/// </summary>
internal sealed class CurrentUser(IHttpContextAccessor http, IOptions<AuthOptions> auth)
{
    /// <summary>The id conversations belong to (<c>Auth:UserIdClaim</c>).</summary>
    public string Id => ChatUsers.Id(http.HttpContext?.User ?? new(), auth.Value)
        ?? throw new InvalidOperationException($"authenticated user without a {auth.Value.UserIdClaim} claim");
}
