using ChatStreaming.Contracts;
using ChatStreaming.Server.Auth;
using ChatStreaming.Server.Chat;
using ChatStreaming.Server.Health;
using ChatStreaming.Server.Security;
using ChatStreaming.Server.Telemetry;
using ChatStreaming.Worker;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatStreaming.Server;

public static class HubExtensions
{
    /// <summary>Maximum size of one incoming hub message; a chat message is at most Chat:MaxMessageCharacters.</summary>
    private const long MaxReceiveMessageBytes = 256 * 1024;

    /// <summary>Authentication, the SignalR hub scaled out over the Redis backplane, REST and health checks.</summary>
    public static IHostApplicationBuilder AddChatHub(this IHostApplicationBuilder builder)
    {
        builder.AddChatAuth();
        // The hosting request log prints the query string, where browsers put the bearer token (access_token):
        // never at a level that logs it, whatever the configuration says.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        var services = builder.Services;
        services.AddSignalR(o =>
            {
                o.EnableDetailedErrors = false; // clients get HubException messages, never stack traces
                o.AddFilter<RedisUnavailableFilter>();
                o.MaximumReceiveMessageSize = MaxReceiveMessageBytes;
            })
            .AddStackExchangeRedis();
        services.AddOptions<RedisOptions>()
            .Configure<IOptions<RedisConnectionOptions>>((backplane, redis) =>
            {
                backplane.Configuration = WorkerExtensions.RedisConfiguration(redis.Value);
                backplane.Configuration.ChannelPrefix = RedisChannel.Literal(RedisKeys.BackplanePrefix);
            });
        services.AddSingleton<IChatBroadcaster, HubChatBroadcaster>();
        services.AddSingleton<ConversationReader>();
        builder.AddChatHealthChecks();
        builder.AddChatTelemetry();
        builder.AddChatOrigins();
        return builder;
    }

    public static WebApplication MapChatHub(this WebApplication app)
    {
        app.UseDefaultFiles(); // "/" serves the browser chat page (wwwroot/index.html)
        app.UseBlazorFrameworkFiles("/web"); // "/web/" serves the Blazor WebAssembly app (Web/)
        app.UseStaticFiles();
        app.UseChatOrigins();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHub<ChatHub>(ChatHubPaths.Hub, o =>
        {
            o.AllowStatefulReconnects = true;
            o.CloseOnAuthenticationExpiration = true;
        });
        app.MapDevTokens();
        app.MapConversations();
        app.MapChatHealthChecks();
        app.MapChatTelemetry();
        app.MapFallbackToFile("/web/{*path:nonfile}", "web/index.html");
        return app;
    }

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
