using Microsoft.Extensions.Options;

namespace ChatStreaming.Server;

public static class ConfigurationErrors
{
    /// <summary>
    /// Validates every option (ValidateOnStart ones) before anything resolves them, so a bad value is reported as one
    /// line naming the key rather than a stack trace. Null when the configuration is valid.
    /// </summary>
    public static string? ConfigurationError(this WebApplication app)
    {
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();
            return null;
        }
        catch (OptionsValidationException ex)
        {
            return $"Configuration error: {string.Join(" ", ex.Failures)}";
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            return $"Configuration error: {ex.Message}";
        }
    }
}
