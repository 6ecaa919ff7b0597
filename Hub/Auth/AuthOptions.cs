namespace ChatStreaming.Server.Auth;

/// <summary>
/// The <c>Auth</c> section. Two ways to sign users in: <see cref="Authority"/> (OpenID Connect: an issuer such as Entra
/// ID, Auth0 or Keycloak signs the tokens; its keys come from its discovery document) or, when no authority is set, a
/// shared key (<see cref="SigningKey"/>, HS256) for simple setups and the development token endpoint.
/// </summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>Issuer and audience of the tokens signed with the shared key (dev tokens included).</summary>
    public const string SharedKeyIssuer = "chatstreaming";
    public const string SharedKeyAudience = "chatstreaming";

    /// <summary>
    /// Used in Development when <see cref="SigningKey"/> is not set, so two local instances accept each other's tokens.
    /// Published in this repository: refused outside Development.
    /// </summary>
    public const string DevelopmentSigningKey = "chatstreaming-development-signing-key-not-for-production";

    /// <summary>The placeholder key <c>deploy/compose.yaml</c> used to ship: published too, refused outside Development.</summary>
    public const string ComposePlaceholderSigningKey = "change-me-to-a-long-random-secret-of-32-chars-or-more";

    /// <summary>OpenID Connect issuer URL (e.g. <c>https://login.microsoftonline.com/{tenant}/v2.0</c>); unset = shared-key mode.</summary>
    public string? Authority { get; set; }

    /// <summary>With <see cref="Authority"/>: the audience the tokens must be issued for (the API's client id or URI).</summary>
    public string? Audience { get; set; }

    /// <summary>With <see cref="Authority"/>: refuse a discovery document served over plain http (set false only for a local issuer).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>The token claim that identifies the user (conversations belong to it): <c>sub</c>, or <c>oid</c> for Entra ID.</summary>
    public string UserIdClaim { get; set; } = "sub";

    /// <summary>Shared-key mode: HMAC-SHA256 key, at least 32 characters; required outside Development.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Enables <c>POST /api/auth/dev-token</c>: anyone may get a token for any user name. Development only.</summary>
    public bool EnableDevTokens { get; set; }

    public TimeSpan DevTokenLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary><c>POST /api/auth/dev-token</c> calls one client address may make per minute (per instance); 0 = no limit.</summary>
    public int DevTokensPerMinute { get; set; } = 30;
}
