using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Auth;

/// <summary>
/// Start-up refuses (one line naming the key) any sign-in setup that would let someone sign in as someone else outside
/// Development: dev tokens on, or a signing key published in this repository.
/// </summary>
internal sealed class AuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var development = environment.IsDevelopment();
        if (string.IsNullOrWhiteSpace(options.UserIdClaim))
        {
            return ValidateOptionsResult.Fail("Auth:UserIdClaim must name a token claim (e.g. sub, or oid for Entra ID).");
        }

        if (options.EnableDevTokens && !development)
        {
            return ValidateOptionsResult.Fail("Auth:EnableDevTokens must be false outside Development: anyone could get a token for any user.");
        }

        if (options.DevTokenLifetime <= TimeSpan.Zero)
        {
            return ValidateOptionsResult.Fail("Auth:DevTokenLifetime must be a positive time span (e.g. 08:00:00).");
        }

        if (options.DevTokensPerMinute < 0)
        {
            return ValidateOptionsResult.Fail("Auth:DevTokensPerMinute must be 0 (no limit) or more.");
        }

        return string.IsNullOrEmpty(options.Authority) ? ValidateSharedKey(options, development) : ValidateAuthority(options);
    }

    private static ValidateOptionsResult ValidateAuthority(AuthOptions options)
    {
        if (!Uri.TryCreate(options.Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("https" or "http"))
        {
            return ValidateOptionsResult.Fail("Auth:Authority must be the issuer's absolute URL (e.g. https://login.example.com/realms/chat).");
        }

        if (authority.Scheme == "http" && options.RequireHttpsMetadata)
        {
            return ValidateOptionsResult.Fail("Auth:Authority must be https (or set Auth:RequireHttpsMetadata to false for a local issuer).");
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            return ValidateOptionsResult.Fail("Auth:Audience is required with Auth:Authority (the audience your issuer puts in tokens for this API).");
        }

        return options.EnableDevTokens
            ? ValidateOptionsResult.Fail("Auth:EnableDevTokens needs the shared-key mode: dev tokens are not signed by Auth:Authority.")
            : ValidateOptionsResult.Success;
    }

    private static ValidateOptionsResult ValidateSharedKey(AuthOptions options, bool development)
    {
        if (string.IsNullOrEmpty(options.SigningKey))
        {
            return development
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail("Auth:SigningKey is required outside Development (an HMAC key of at least 32 characters), or set Auth:Authority.");
        }

        if (!development && options.SigningKey is AuthOptions.DevelopmentSigningKey or AuthOptions.ComposePlaceholderSigningKey)
        {
            return ValidateOptionsResult.Fail("Auth:SigningKey is a key published in the ChatStreaming repository: set a secret of your own outside Development.");
        }

        return options.SigningKey.Length < 32
            ? ValidateOptionsResult.Fail("Auth:SigningKey must be at least 32 characters.")
            : ValidateOptionsResult.Success;
    }
}
