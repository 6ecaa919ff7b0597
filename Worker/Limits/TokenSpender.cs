using ChatStreaming.Contracts;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker.Limits;

/// <summary>Counts an answer's tokens against its owner's daily budget (Chat:TokensPerDayPerUser).</summary>
internal sealed class TokenSpender(UserLimiter limiter, ILogger<TokenSpender> logger)
{
    /// <summary>Redis being away loses this answer's count only. A refund takes back what an earlier call counted.</summary>
    public async Task SpendAsync(string ownerId, Guid messageId, TokenUsage? usage, bool refund = false)
    {
        if (usage is null)
        {
            return;
        }

        try
        {
            var tokens = usage.PromptTokens + usage.CompletionTokens;
            await limiter.SpendTokensAsync(ownerId, refund ? -tokens : tokens);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            WorkerLog.TokensNotCounted(logger, ex, messageId);
        }
    }
}
