using System.Security.Claims;
using System.Text.RegularExpressions;
using ChatStreaming.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ChatStreaming.Server.Auth;

/// <summary><c>POST /api/auth/dev-token</c>: a signed token for any user name, only when Auth:EnableDevTokens is true.</summary>
internal static partial class DevTokenApi
{
    public static IEndpointRouteBuilder MapDevTokens(this IEndpointRouteBuilder routes)
    {
        routes.MapPost(ChatHubPaths.DevToken, IssueToken).AllowAnonymous().RequireRateLimiting(Security.RateLimitExtensions.DevTokens);
        return routes;
    }

    private static Results<Ok<DevTokenResponse>, ValidationProblem, NotFound> IssueToken(
        DevTokenRequest? request, IOptions<AuthOptions> options, TimeProvider timeProvider)
    {
        var auth = options.Value;
        if (!auth.EnableDevTokens)
        {
            return TypedResults.NotFound();
        }

        if (request?.UserName is not { } userName || !UserNamePattern().IsMatch(userName))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["userName"] = ["userName is required: 1 to 64 letters, digits, '.', '_', '-' or '@'."],
            });
        }

        var expiresAt = timeProvider.GetUtcNow() + auth.DevTokenLifetime;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = AuthOptions.SharedKeyIssuer,
            Audience = AuthOptions.SharedKeyAudience,
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, userName), new Claim(JwtRegisteredClaimNames.Name, userName)]),
            Expires = expiresAt.UtcDateTime,
            SigningCredentials = new SigningCredentials(TokenKeys.SigningKey(auth), SecurityAlgorithms.HmacSha256),
        });
        return TypedResults.Ok(new DevTokenResponse(token, expiresAt));
    }

    [GeneratedRegex("^[A-Za-z0-9._@-]{1,64}$")]
    private static partial Regex UserNamePattern();
}
