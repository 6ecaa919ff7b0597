using ChatStreaming.Contracts;
using ChatStreaming.Server.Telemetry;
using ChatStreaming.Worker.Redis;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// Redis unreachable or not answering in time, whichever hub method needed it (SendMessage's admission, GetChunks,
/// CancelGeneration, …): the caller gets <see cref="ChatErrors.Unavailable"/>, a clear and retryable error, instead of
/// SignalR's generic one. Logged once per call as a warning, for operators.
/// </summary>
public sealed class RedisUnavailableFilter(ILogger<RedisUnavailableFilter> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            ServerLog.RedisUnavailable(logger, ex, invocationContext.HubMethodName);
            throw new HubException(ChatErrors.Unavailable);
        }
    }
}
