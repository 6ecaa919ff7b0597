using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace ChatStreaming.Hub.Tests.Limits;

/// <summary>
/// What the renewals keep listed in Redis — a user's running answers and open connections, which the per-user limits
/// count — when an answer ends or a connection closes while its renewal is on the way: the end wins. The Worker's
/// services in-process, each step called in the order of the race (a renewal reads, the end lands, the renewal writes).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RenewalRaceTests(ChatCluster cluster)
{
    private IDatabase Redis => cluster.RedisClient.GetDatabase();

    [Fact]
    public async Task AnAnswerThatEndsBetweenItsRenewalsTwoRoundTripsStopsCountingAtOnce()
    {
        using var worker = WorkerHost.Create(cluster, new Dictionary<string, string> { ["Chat:MaxConcurrentGenerationsPerUser"] = "1" });
        var (state, limiter) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<UserLimiter>());
        var (user, answer) = await RegisteredAsync(state, limiter, "renewal-race");
        Assert.Equal(AdmissionResult.TooManyRunning, (await limiter.AdmitAsync(user, answer.ConversationId, null)).Result);

        // The renewal finds it streaming; it is cancelled and ends (its user sees it end); the renewal lists what it found.
        var renewed = await state.RenewStatesAsync([answer]);
        Assert.Equal(MessageStatus.Cancelled, await state.FinishAsync(answer.ConversationId, answer.MessageId, MessageStatus.Cancelled, null));
        await state.ListRenewedAsync(renewed);

        // Before: listed again until a lease later, so the user's next send was refused ("at most 1 answers may run at once").
        // (Its lease index entry may be written again: a hint a sweep drops, never counted.)
        Assert.Equal(0, await Redis.SortedSetLengthAsync(RedisKeys.UserActive(user)));
        Assert.Equal(AdmissionResult.Admitted, (await limiter.AdmitAsync(user, answer.ConversationId, null)).Result);
    }

    [Fact]
    public async Task ARunningAnswerWhoseListingsRedisLostCountsAgainAfterItsNextRenewal()
    {
        using var worker = WorkerHost.Create(cluster, new Dictionary<string, string> { ["Chat:MaxConcurrentGenerationsPerUser"] = "1" });
        var (state, limiter) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<UserLimiter>());
        var (user, answer) = await RegisteredAsync(state, limiter, "renewal-lost");
        var member = RedisKeys.LeaseMember(answer.ConversationId, answer.MessageId);

        // A Redis restart without persistence: the answer's state and listings are gone, its instance still generates it.
        await Redis.KeyDeleteAsync(RedisKeys.Generation(answer.ConversationId, answer.MessageId));
        await Redis.KeyDeleteAsync(RedisKeys.UserActive(user));
        await Redis.SortedSetRemoveAsync(RedisKeys.LeaseIndex(answer.ConversationId), member);
        Assert.Empty(await state.RenewAsync([answer]));

        Assert.Equal(MessageStatus.Streaming, (await state.GetGenerationAsync(answer.ConversationId, answer.MessageId))!.Status);
        Assert.NotNull(await Redis.SortedSetScoreAsync(RedisKeys.UserActive(user), member));
        Assert.NotNull(await Redis.SortedSetScoreAsync(RedisKeys.LeaseIndex(answer.ConversationId), member));
        Assert.Equal(AdmissionResult.TooManyRunning, (await limiter.AdmitAsync(user, answer.ConversationId, null)).Result);
        await state.FinishAsync(answer.ConversationId, answer.MessageId, MessageStatus.Cancelled, null);
    }

    [Fact]
    public async Task AConnectionClosedWhileItsEntryIsBeingRenewedStopsCountingAtOnce()
    {
        using var worker = WorkerHost.Create(cluster, new Dictionary<string, string> { ["Chat:MaxConnectionsPerUser"] = "1" });
        var connections = worker.Services.GetRequiredService<UserConnections>();
        var user = $"renewal-close-{Guid.NewGuid():N}";
        Assert.True(await connections.TryOpenAsync(user, "first"));
        Assert.False(await connections.TryOpenAsync(user, "refused"));

        // The renewal reads the connections open here; the first closes (its entry removed); the renewal writes.
        KeyValuePair<string, string>[] open = [new("first", user)];
        await connections.CloseAsync("first");
        await connections.RenewAsync(open);

        Assert.Equal(0, await Redis.SortedSetLengthAsync(RedisKeys.UserConnections(user)));
        Assert.True(await connections.TryOpenAsync(user, "second")); // before: refused for two leases
        await connections.CloseAsync("second");
    }

    private static async Task<(string User, OwnedAnswer Answer)> RegisteredAsync(GenerationState state, UserLimiter limiter, string name)
    {
        var user = $"{name}-{Guid.NewGuid():N}";
        var answer = new OwnedAnswer(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), user);
        var admission = await limiter.AdmitAsync(user, answer.ConversationId, null);
        Assert.Equal(AdmissionResult.Admitted, admission.Result);
        await state.RegisterAsync(answer.MessageId, answer.ConversationId, answer.UserMessageId, user, admission);
        return (user, answer);
    }
}
