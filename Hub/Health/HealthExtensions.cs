using ChatStreaming.Contracts;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace ChatStreaming.Server.Health;

internal static class HealthExtensions
{
    private const string ReadyTag = "ready";

    public static IHostApplicationBuilder AddChatHealthChecks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks()
            .AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(3))
            .AddNpgSql(name: "postgres", tags: [ReadyTag], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<GeneratorHealthCheck>("generator", tags: [ReadyTag]);
        return builder;
    }

    /// <summary>Live: the process answers. Ready: Redis and Postgres are reachable, and the generator takes new answers.</summary>
    public static WebApplication MapChatHealthChecks(this WebApplication app)
    {
        app.MapHealthChecks(ChatHubPaths.HealthLive, new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks(ChatHubPaths.HealthReady, new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) });
        return app;
    }
}
