namespace ChatStreaming.Server.Auth;

/// <summary>The <c>Auth</c> section: HMAC-signed JWTs and the development token endpoint.</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";
    public const string Issuer = "chatstreaming";
    public const string Audience = "chatstreaming";

    /// <summary>
    /// Used in Development when <see cref="SigningKey"/> is not set, so two local instances accept each other's tokens.
    /// Never valid outside Development.
    /// </summary>
    public const string DevelopmentSigningKey = "chatstreaming-development-signing-key-not-for-production";

    /// <summary>HMAC-SHA256 key, at least 32 characters; required outside Development.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Enables <c>POST /api/auth/dev-token</c>: anyone may get a token for any user name.</summary>
    public bool EnableDevTokens { get; set; }

    public TimeSpan DevTokenLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary><c>POST /api/auth/dev-token</c> calls one client address may make per minute (per instance); 0 = no limit.</summary>
    public int DevTokensPerMinute { get; set; } = 30;

    /// <summary>The token claim that identifies the user (conversations belong to it): <c>sub</c>, or <c>oid</c> for Entra ID.</summary>
    public string UserIdClaim { get; set; } = "sub";
}
