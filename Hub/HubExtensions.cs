using ChatStreaming.Contracts;
using ChatStreaming.Server.Auth;
using ChatStreaming.Server.Chat;
using ChatStreaming.Server.Health;
using ChatStreaming.Worker;
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
        var services = builder.Services;
        services.AddSignalR(o =>
            {
                o.EnableDetailedErrors = false; // clients get HubException messages, never stack traces
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
        return builder;
    }

    public static WebApplication MapChatHub(this WebApplication app)
    {
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
        return app;
    }

    /// <summary>Runs the host. A configuration error stops start-up with one line naming the key, and exit code 2.</summary>
    public static async Task<int> RunChatAsync(this WebApplication app)
    {
        try
        {
            await app.RunAsync();
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Configuration error: {string.Join(" ", ex.Failures)}");
            return 2;
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            await Console.Error.WriteLineAsync($"Configuration error: {ex.Message}");
            return 2;
        }
    }
}
