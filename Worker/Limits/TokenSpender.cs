using ChatStreaming.Contracts;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker.Limits;

/// <summary>
/// Counts an answer's tokens against its owner's daily budget (Chat:TokensPerDayPerUser), once per answer: a count
/// replaces the answer's earlier one made under the same or an earlier ownership (its <c>epoch</c>), and is
/// ignored after a later one's. So an owner that counted and then died (or stayed paused past its lease) and the
/// successor or sweep that ended the answer after it count it once, whichever order their counts come in (within one
/// UTC day: an answer whose counts fall on both sides of midnight counts on both days).
/// </summary>
internal sealed class TokenSpender(UserLimiter limiter, ILogger<TokenSpender> logger)
{
    /// <summary>Redis being away loses this answer's count only.</summary>
    public async Task SpendAsync(string ownerId, Guid messageId, long epoch, TokenUsage? usage)
    {
        if (usage is null)
        {
            return;
        }

        try
        {
            await limiter.SpendTokensAsync(ownerId, messageId, epoch, usage.PromptTokens + usage.CompletionTokens);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            WorkerLog.TokensNotCounted(logger, ex, messageId);
        }
    }
}
