using ChatStreaming.Contracts;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Limits;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ChatStreaming.Server.Chat;

/// <summary>
/// Per-user limits on the hub calls that are not sends (sends have their own, in the send flow), shared by all
/// instances through Redis: <c>Chat:ConversationsPerMinutePerUser</c> for CreateConversation, and
/// <c>Chat:ReadsPerMinutePerUser</c> for every other method (list, join, leave, page, replay, cancel, rename, delete, search, and any added
/// later). Refused with <c>rate limited, retry after N s: …</c> before the method runs.
/// </summary>
public sealed class UserCallLimitFilter(UserLimiter limiter, IOptions<ChatStreamingOptions> options) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var method = invocationContext.HubMethodName;
        if (!AdmittedBySendFlow.Contains(method) && invocationContext.Context.UserIdentifier is { } userId)
        {
            var o = options.Value;
            var (kind, perMinute, what) = method == ChatHubMethods.CreateConversation
                ? ("conversations", o.ConversationsPerMinutePerUser, "conversations created")
                : ("reads", o.ReadsPerMinutePerUser, "reads");
            if (await limiter.CountCallAsync(userId, kind, perMinute) is { } wait)
            {
                throw new HubException(ChatErrors.RateLimited(wait, $"at most {perMinute} {what} per minute"));
            }
        }

        return await next(invocationContext);
    }

    /// <summary>Methods that start an answer: counted by the send limits (messages per minute, answers at once) instead.</summary>
    private static readonly HashSet<string> AdmittedBySendFlow = [ChatHubMethods.SendMessage, ChatHubMethods.RegenerateAnswer, ChatHubMethods.EditMessage];
}
