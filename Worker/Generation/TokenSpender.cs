using ChatStreaming.Contracts;
using ChatStreaming.Worker.Diagnostics;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Worker.Generation;

/// <summary>Counts an answer's tokens against its owner's daily budget (Chat:TokensPerDayPerUser).</summary>
internal sealed class TokenSpender(UserLimiter limiter, ILogger<TokenSpender> logger)
{
    /// <summary>Redis being away loses this answer's count only.</summary>
    public async Task SpendAsync(GenerationJob job, TokenUsage? usage)
    {
        if (usage is null)
        {
            return;
        }

        try
        {
            await limiter.SpendTokensAsync(job.OwnerId, usage.PromptTokens + usage.CompletionTokens);
        }
        catch (Exception ex) when (RedisRetries.IsRedisFailure(ex))
        {
            WorkerLog.TokensNotCounted(logger, ex, job.AssistantMessageId);
        }
    }
}
