using ChatStreaming.Contracts;
using ChatStreaming.Worker;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// Redis unreachable or not answering in time, whichever hub method needed it (SendMessage's admission, GetChunks,
/// CancelGeneration, …): the caller gets <see cref="ChatErrors.Unavailable"/>, a clear and retryable error, instead of
/// SignalR's generic one. Logged once per call as a warning, for operators.
/// </summary>
public sealed partial class RedisUnavailableFilter(ILogger<RedisUnavailableFilter> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            RedisUnavailable(logger, ex, invocationContext.HubMethodName);
            throw new HubException(ChatErrors.Unavailable);
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Hub method {Method} failed: Redis unavailable")]
    private static partial void RedisUnavailable(ILogger logger, Exception exception, string method);
}
