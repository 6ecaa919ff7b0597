using ChatStreaming.Contracts;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Security;

/// <summary>
/// Browser origins: CORS for the allowed ones, and a refusal (403) of any hub or API request that carries an Origin
/// header from elsewhere — including WebSocket upgrades, which browsers do not subject to CORS.
/// </summary>
internal static class OriginExtensions
{
    private const string PolicyName = "chat-origins";

    public static IHostApplicationBuilder AddChatOrigins(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ChatCorsOptions>().BindConfiguration(ChatCorsOptions.SectionName)
            .Validate(o => o.AllowedOrigins.All(IsOrigin), "Cors:AllowedOrigins must list origins like https://app.example.com (scheme, host, optional port; no path).")
            .ValidateOnStart();
        builder.Services.AddCors();
        builder.Services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>()
            .Configure<IOptions<ChatCorsOptions>>((cors, origins) => cors.AddPolicy(PolicyName, policy => policy
                .WithOrigins(origins.Value.AllowedOrigins)
                .AllowAnyHeader()
                .AllowAnyMethod()
                .AllowCredentials()));
        return builder;
    }

    public static WebApplication UseChatOrigins(this WebApplication app)
    {
        app.UseCors(PolicyName);
        var allowed = app.Services.GetRequiredService<IOptions<ChatCorsOptions>>().Value.AllowedOrigins.ToHashSet(StringComparer.OrdinalIgnoreCase);
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if ((path.StartsWithSegments(ChatHubPaths.Hub) || path.StartsWithSegments("/api"))
                && context.Request.Headers.Origin.FirstOrDefault() is { Length: > 0 } origin
                && !allowed.Contains(origin)
                && !string.Equals(origin, $"{context.Request.Scheme}://{context.Request.Host}", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }

            await next(context);
        });
        return app;
    }

    internal static bool IsOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.AbsolutePath == "/" && !value.EndsWith('/');
}
