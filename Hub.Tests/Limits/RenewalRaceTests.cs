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
    public async Task ARetryThatArrivesWhileItsSendIsStillSavingNeitherCountsTwiceNorTakesTheSendsPlace()
    {
        // One message a minute and one answer at a time. Send A is admitted and saving; its retry B (same client key)
        // finds nothing saved yet, so it is admitted again as new; then B's insert meets A's row and B gives back what
        // it took. The steps of that race, in its order.
        using var worker = WorkerHost.Create(cluster, new Dictionary<string, string>
        {
            ["Chat:MessagesPerMinutePerUser"] = "1",
            ["Chat:MaxConcurrentGenerationsPerUser"] = "1",
        });
        var limiter = worker.Services.GetRequiredService<UserLimiter>();
        var (user, conversation) = ($"retry-race-{Guid.NewGuid():N}", Guid.NewGuid());
        var sent = await limiter.AdmitAsync(user, conversation, "key");
        Assert.Equal(AdmissionResult.Admitted, sent.Result);
        Assert.True((await limiter.AdmitAsync(user, conversation, "key")).SeenBefore);

        // Before: refused "rate limited" (its own send filled the minute) and, once refunded, it removed A's entries.
        var retry = await limiter.AdmitAsync(user, conversation, "key", asNew: true);
        Assert.Equal(AdmissionResult.Admitted, retry.Result);
        await limiter.RefundAsync(user, retry);

        Assert.Equal(1, await Redis.SortedSetLengthAsync(RedisKeys.UserSends(user)));
        Assert.Equal(1, await Redis.SortedSetLengthAsync(RedisKeys.UserActive(user)));
        Assert.Equal(AdmissionResult.TooManyMessages, (await limiter.AdmitAsync(user, conversation, "another key")).Result); // A still counts
        await limiter.RefundAsync(user, sent);
        Assert.Equal(0, await Redis.SortedSetLengthAsync(RedisKeys.UserSends(user)));
        Assert.Equal(0, await Redis.SortedSetLengthAsync(RedisKeys.UserActive(user)));
    }

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
    public async Task AnAnswerThatEndsHereWhileItsRenewalIsOnTheWayIsNotTakenForEndedElsewhere()
    {
        using var worker = WorkerHost.Create(cluster);
        var (state, limiter, owned) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<UserLimiter>(), worker.Services.GetRequiredService<OwnedAnswers>());
        var (_, answer) = await RegisteredAsync(state, limiter, "renewal-own-end");
        using var stopping = new CancellationTokenSource();
        using var generation = owned.Start(answer, stopping.Token);

        // The renewal takes the answers generating here; the answer ends here (marked ending, then its end decided);
        // the renewal's script finds it ended, as it would an answer another instance ended.
        var renewable = owned.Renewable;
        owned.MarkEnding(answer.MessageId);
        Assert.Equal(MessageStatus.Completed, await state.FinishAsync(answer.ConversationId, answer.MessageId, MessageStatus.Completed, null));
        var endedElsewhere = await state.RenewAsync(renewable);

        // Before: taken for ended elsewhere, its generation cancelled and "was ended by another instance" logged (1009),
        // by every renewal that crossed an answer's own end: the published runs' "takeovers" at 2000 streams.
        Assert.Equal([answer.MessageId], endedElsewhere);
        Assert.False(owned.TryCancel(answer.MessageId), "an answer ending here was cancelled as if ended elsewhere");
        Assert.False(generation.IsCancellationRequested);
        owned.Release(answer.MessageId);
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

    /// <summary>An answer of a new user (named after <paramref name="name"/>), admitted and registered as a send does it.</summary>
    internal static async Task<(string User, OwnedAnswer Answer)> RegisteredAsync(GenerationState state, UserLimiter limiter, string name)
    {
        var user = $"{name}-{Guid.NewGuid():N}";
        var answer = new OwnedAnswer(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), user);
        var admission = await limiter.AdmitAsync(user, answer.ConversationId, null);
        Assert.Equal(AdmissionResult.Admitted, admission.Result);
        await state.RegisterAsync(answer.MessageId, answer.ConversationId, answer.UserMessageId, user, admission);
        return (user, answer);
    }
}
