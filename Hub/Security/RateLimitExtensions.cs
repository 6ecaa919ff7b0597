using System.Globalization;
using System.Threading.RateLimiting;
using ChatStreaming.Contracts;
using ChatStreaming.Server.Auth;
using ChatStreaming.Worker;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Security;

/// <summary>
/// ASP.NET Core's rate limiter on the REST routes: <see cref="PerUser"/> partitions by the signed-in user
/// (<c>Chat:RestRequestsPerMinutePerUser</c>, per instance), <see cref="DevTokens"/> by client address
/// (<c>Auth:DevTokensPerMinute</c>). A refusal is 429 with Retry-After. The hub's own calls are limited across
/// instances in Redis (<c>UserCallLimitFilter</c> and the send flow).
/// </summary>
internal static class RateLimitExtensions
{
    public const string PerUser = "per-user";
    public const string DevTokens = "dev-tokens";

    public static IHostApplicationBuilder AddChatRateLimits(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<ChatStreamingOptions>, IOptions<AuthOptions>>((limits, chat, auth) =>
        {
            limits.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limits.OnRejected = (context, _) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ChatErrors.RetryAfterSeconds(wait).ToString(CultureInfo.InvariantCulture);
                }

                return ValueTask.CompletedTask;
            };
            limits.AddPolicy(PerUser, context => PerMinute(ChatUsers.Id(context.User, auth.Value) ?? "anonymous", chat.Value.RestRequestsPerMinutePerUser));
            limits.AddPolicy(DevTokens, context => PerMinute(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", auth.Value.DevTokensPerMinute));
        });
        return builder;
    }

    private static RateLimitPartition<string> PerMinute(string key, int permits) => permits <= 0
        ? RateLimitPartition.GetNoLimiter(key)
        : RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
}
