using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Auth;

internal sealed class AuthOptionsValidator(IHostEnvironment environment) : IValidateOptions<AuthOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        if (string.IsNullOrEmpty(options.SigningKey))
        {
            return environment.IsDevelopment()
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail("Auth:SigningKey is required outside Development (an HMAC key of at least 32 characters).");
        }

        if (options.SigningKey.Length < 32)
        {
            return ValidateOptionsResult.Fail("Auth:SigningKey must be at least 32 characters.");
        }

        return options.DevTokenLifetime <= TimeSpan.Zero
            ? ValidateOptionsResult.Fail("Auth:DevTokenLifetime must be a positive time span (e.g. 08:00:00).")
            : ValidateOptionsResult.Success;
    }
}
