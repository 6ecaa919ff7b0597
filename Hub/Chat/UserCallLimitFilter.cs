using ChatStreaming.Contracts;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// Per-user limits on every hub call, shared by all instances through Redis, counted before the method runs (refused
/// or not): <c>Chat:SendCallsPerMinutePerUser</c> for the calls that start an answer (SendMessage, RegenerateAnswer,
/// EditMessage; the admitted ones also count against the send limits of the send flow),
/// <c>Chat:ConversationsPerMinutePerUser</c> for CreateConversation, and <c>Chat:ReadsPerMinutePerUser</c> for every
/// other method (list, join, leave, page, replay, cancel, rename, delete, search, and any added later). Refused with
/// <c>rate limited, retry after N s: …</c> before the method does any work. While Redis is unreachable the
/// limits are counted by this instance alone (<see cref="LocalCallLimits"/>): none of these calls is refused only
/// because Redis is away (the ones that need Redis, such as a replay, say so themselves).
/// </summary>
public sealed class UserCallLimitFilter(UserLimiter limiter, LocalCallLimits local, IOptions<ChatStreamingOptions> options) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var method = invocationContext.HubMethodName;
        if (invocationContext.Context.UserIdentifier is { } userId)
        {
            var o = options.Value;
            var (kind, perMinute, what) = StartsAnAnswer.Contains(method) ? ("sends", o.SendCallsPerMinutePerUser, "send calls")
                : method == ChatHubMethods.CreateConversation ? ("conversations", o.ConversationsPerMinutePerUser, "conversations created")
                : ("reads", o.ReadsPerMinutePerUser, "reads");
            TimeSpan? wait;
            try
            {
                wait = await limiter.CountCallAsync(userId, kind, perMinute);
            }
            catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
            {
                wait = local.Count(userId, kind, perMinute, method);
            }

            if (wait is { } retryAfter)
            {
                throw new HubException(ChatErrors.RateLimited(retryAfter, $"at most {perMinute} {what} per minute"));
            }
        }

        return await next(invocationContext);
    }

    /// <summary>Methods that start an answer.</summary>
    private static readonly HashSet<string> StartsAnAnswer = [ChatHubMethods.SendMessage, ChatHubMethods.RegenerateAnswer, ChatHubMethods.EditMessage];
}
