using ChatStreaming.Worker.Limits;
using Microsoft.Extensions.DependencyInjection;

namespace ChatStreaming.Hub.Tests.Limits;

/// <summary>
/// An answer counts once against its owner's daily token budget, whoever counts it and in whichever order: its owner
/// that counted and then died before deciding its end, or woke after a sweep ended it (the sweep counted an estimate
/// under the same ownership); an owner fenced out by its successor, before or after the successor counted the whole
/// answer. The limiter's own services, in-process, on the cluster's Redis.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TokenCountTests(ChatCluster cluster)
{
    [Fact]
    public async Task AnAnswerCountedAgainReplacesItsCountAndAnEarlierOwnershipsCountComingLateIsIgnored()
    {
        using var host = WorkerHost.Create(cluster, new Dictionary<string, string> { ["Chat:TokensPerDayPerUser"] = "100" });
        var limiter = host.Services.GetRequiredService<UserLimiter>();
        var (user, conversation) = ($"token-count-{Guid.NewGuid():N}", Guid.NewGuid());
        var (died, fenced, last) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        // Its owner counted 30 and died before deciding the end; the sweep that ended it counts its estimate, 25, under
        // the same ownership (an owner that wakes after the sweep counts under it too: the last count stands).
        Assert.True(await limiter.SpendTokensAsync(user, died, epoch: 1, tokens: 30));
        Assert.True(await limiter.SpendTokensAsync(user, died, epoch: 1, tokens: 25));
        // The first owner counted 40 and was fenced out; its successor counts the whole answer, 60; a count of the first
        // owner that comes after it (it was paused) is ignored.
        Assert.True(await limiter.SpendTokensAsync(user, fenced, epoch: 1, tokens: 40));
        Assert.True(await limiter.SpendTokensAsync(user, fenced, epoch: 2, tokens: 60));
        Assert.False(await limiter.SpendTokensAsync(user, fenced, epoch: 1, tokens: 40));

        // 85 of 100, not the 195 of every count added up: a send is admitted.
        Assert.Equal(AdmissionResult.Admitted, (await limiter.AdmitAsync(user, conversation, null)).Result);
        Assert.True(await limiter.SpendTokensAsync(user, last, epoch: 1, tokens: 15));
        Assert.Equal(AdmissionResult.TokenBudgetSpent, (await limiter.AdmitAsync(user, conversation, null)).Result); // 100 of 100
    }
}
