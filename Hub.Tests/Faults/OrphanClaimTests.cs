using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.DependencyInjection;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>
/// Who may claim an answer whose lease ran out: never while its instance is alive and renews it; but an instance that is
/// alive and has lost track of an answer (it renews its heartbeat and its answers' leases in one tick, so a lease a
/// whole lease past its end while the heartbeat is fresh is one it no longer renews) does not keep it for ever, and
/// claims it back itself at once. In-process instances of the Worker on the cluster's Redis, each claim called directly.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class OrphanClaimTests(ChatCluster cluster)
{
    [Fact]
    public async Task AnAnswerItsLiveInstanceStoppedRenewingIsClaimedOnceItsLeaseIsAWholeLeasePastItsEnd()
    {
        // Two instances (10-s leases, the default); the answer is the first one's, whose heartbeat stays fresh.
        using var first = WorkerHost.Create(cluster);
        using var second = WorkerHost.Create(cluster);
        var state = first.Services.GetRequiredService<GenerationState>();
        var (_, answer) = await Limits.RenewalRaceTests.RegisteredAsync(state, first.Services.GetRequiredService<UserLimiter>(), "lost-track");
        var db = cluster.RedisClient.GetDatabase();
        var key = RedisKeys.Generation(answer.ConversationId, answer.MessageId);
        var registeredLease = (long)await db.HashGetAsync(key, "lease"); // Redis's clock + 10 s
        var claimer = second.Services.GetRequiredService<GenerationState>();

        async Task<OrphanClaim?> ClaimWithLeaseEndedAsync(long secondsAgo)
        {
            await db.StringSetAsync(RedisKeys.Instance(first.Services.GetRequiredService<InstanceIdentity>().Id), "alive", TimeSpan.FromSeconds(30));
            await db.HashSetAsync(key, "lease", registeredLease - 10_000 - (secondsAgo * 1000));
            return await claimer.ClaimOrphanAsync(answer.ConversationId, answer.MessageId, leaseExpired: true, takeOver: true);
        }

        // Lapsed 5 s ago with its instance alive: a renewal late by less than a lease, not claimed.
        Assert.Null(await ClaimWithLeaseEndedAsync(secondsAgo: 5));

        // Lapsed 15 s ago with its instance still alive: that instance no longer renews it. Before: never claimed while
        // the instance lived (an answer it had claimed but failed to queue stayed streaming for ever).
        var claim = await ClaimWithLeaseEndedAsync(secondsAgo: 15);
        Assert.Equal(2L, claim?.Continuation?.Epoch);
        Assert.Equal(second.Services.GetRequiredService<InstanceIdentity>().Id, (string?)await db.HashGetAsync(key, "instance"));
        await claimer.FinishAsync(answer.ConversationId, answer.MessageId, ChatStreaming.Contracts.MessageStatus.Interrupted, null, epoch: 2);
    }

    [Fact]
    public async Task AnInstanceClaimsItsOwnLapsedAnswerAtOnceForItAsksOnlyOfAnswersItDoesNotRun()
    {
        // One instance (10-s leases) whose answer's lease ran out 2 s ago, its heartbeat fresh: to any other instance a
        // renewal late by less than a lease; but its own sweep asks only of answers it does not run (OwnedAnswers), so
        // this one it lost track of (a takeover it claimed and could not queue). Before: it waited a whole lease more.
        using var host = WorkerHost.Create(cluster);
        var state = host.Services.GetRequiredService<GenerationState>();
        var (_, answer) = await Limits.RenewalRaceTests.RegisteredAsync(state, host.Services.GetRequiredService<UserLimiter>(), "own-lapsed");
        var db = cluster.RedisClient.GetDatabase();
        var key = RedisKeys.Generation(answer.ConversationId, answer.MessageId);
        var registeredLease = (long)await db.HashGetAsync(key, "lease");
        var self = host.Services.GetRequiredService<InstanceIdentity>().Id;
        await db.StringSetAsync(RedisKeys.Instance(self), "alive", TimeSpan.FromSeconds(30));

        // Its lease current: not an orphan, whoever asks.
        Assert.Null(await state.ClaimOrphanAsync(answer.ConversationId, answer.MessageId, leaseExpired: true, takeOver: true));

        await db.HashSetAsync(key, "lease", registeredLease - 12_000);
        var claim = await state.ClaimOrphanAsync(answer.ConversationId, answer.MessageId, leaseExpired: true, takeOver: true);
        Assert.Equal(2L, claim?.Continuation?.Epoch);
        Assert.Equal(self, (string?)await db.HashGetAsync(key, "instance"));
        await state.FinishAsync(answer.ConversationId, answer.MessageId, ChatStreaming.Contracts.MessageStatus.Interrupted, null, epoch: 2);
    }

    [Fact]
    public async Task AnAnswerRedisLostStaysMarkedPastTheLostGraceAndTheGapToTheSweepThatClaimsIt()
    {
        // One-minute leases: the lost grace is three leases (180 s), and the sweeps that ask Postgres for answers still
        // streaming come ten sweeps, 200 s, apart. The first one marks the answer; one at least 180 s later claims it,
        // which may be 380 s after the mark. Before: the mark lived max(Chat:ReplayTtl, 3 minutes), here 3 minutes, so
        // every sweep that found the answer found no mark, marked it again, and it was never claimed.
        using var host = WorkerHost.Create(cluster, new Dictionary<string, string> { ["Chat:GenerationLease"] = "00:01:00", ["Chat:ReplayTtl"] = "00:01:00" });
        var state = host.Services.GetRequiredService<GenerationState>();
        var (conversationId, messageId) = (Guid.NewGuid(), Guid.NewGuid()); // Postgres says streaming; Redis has nothing of it
        var marker = RedisKeys.Lost(conversationId, messageId);
        var db = cluster.RedisClient.GetDatabase();
        try
        {
            Assert.Null(await state.ClaimOrphanAsync(conversationId, messageId, leaseExpired: false, takeOver: true)); // marked, not claimed yet

            var ttl = await db.KeyTimeToLiveAsync(marker);
            Assert.True(ttl > TimeSpan.FromSeconds(180 + 200), $"the lost marker lives {ttl}");
        }
        finally
        {
            await db.KeyDeleteAsync(marker);
        }
    }

    [Fact]
    public async Task ARunningAnswersReplayBufferOutlivesAShortReplayTtlSoASuccessorFindsItWhole()
    {
        // Chat:ReplayTtl 1 s, leases 10 s (the default): while the answer runs, its buffer lives two leases after its last
        // chunk, refreshed with its lease; once it has ended, until it is saved, past the sweep's unsaved grace; once
        // saved, Chat:ReplayTtl.
        using var host = WorkerHost.Create(cluster, new Dictionary<string, string> { ["Chat:ReplayTtl"] = "00:00:01" });
        var state = host.Services.GetRequiredService<GenerationState>();
        var (_, answer) = await Limits.RenewalRaceTests.RegisteredAsync(state, host.Services.GetRequiredService<UserLimiter>(), "short-replay-ttl");
        var chunk = new ChatStreaming.Contracts.Chunk(answer.ConversationId, answer.MessageId, 1, "kept", 0);
        var appended = await host.Services.GetRequiredService<ReplayStream>().AppendLoadingAsync(
            AnswerKeys.For(answer.ConversationId, answer.MessageId), chunk, ConversationEvent.Encode(Guid.NewGuid(), chunk));
        Assert.Equal(ChunkWrite.Written, ReplayStream.WriteOf(appended));
        var db = cluster.RedisClient.GetDatabase();
        var chunks = RedisKeys.Chunks(answer.ConversationId, answer.MessageId);

        // Before: the buffer lived Chat:ReplayTtl after each chunk, so a model silent for longer than that lost it, and a
        // successor started the answer again at sequence 1 (its clients dropped those as repeats: a garbled answer).
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // longer than Chat:ReplayTtl: the condition under test
        Assert.Equal(1, await db.StreamLengthAsync(chunks));

        await db.KeyExpireAsync(chunks, TimeSpan.FromSeconds(5)); // as if its last chunk were long ago
        await state.RenewStatesAsync([answer]);
        Assert.InRange((await db.KeyTimeToLiveAsync(chunks))!.Value, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));

        var counted = new ChatStreaming.Contracts.TokenUsage(12, 34) { Estimated = true };
        await state.FinishAsync(answer.ConversationId, answer.MessageId, ChatStreaming.Contracts.MessageStatus.Completed, null, usage: counted);
        // Decided, not yet saved: an instance that dies now leaves the decided end and the text to the sweep, which waits
        // out its 60-s unsaved grace first. Before: both lived Chat:ReplayTtl (here 1 s), and the sweep found neither: it
        // ended the answer interrupted and empty.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var key = RedisKeys.Generation(answer.ConversationId, answer.MessageId);
        Assert.Equal("completed", (string?)await db.HashGetAsync(key, "status"));
        Assert.Equal(1, await db.StreamLengthAsync(chunks));
        Assert.True((await db.KeyTimeToLiveAsync(chunks)) > GenerationState.UnsavedGrace, "the unsaved end's buffer must outlive the sweep's grace");
        // The sweep that saves it past that grace saves the usage its instance counted with the decision.
        await db.HashSetAsync(key, "ended", 0);
        Assert.Equal(counted, (await state.ClaimOrphanAsync(answer.ConversationId, answer.MessageId, leaseExpired: false, takeOver: false))?.Usage);
        // A save retried (Postgres away) keeps them, and never for less than that: before, 1 s + 2 minutes.
        await state.KeepAsync(answer.ConversationId, answer.MessageId);
        Assert.True((await db.KeyTimeToLiveAsync(chunks)) > GenerationState.UnsavedGrace + GenerationState.SaveRetryMargin - TimeSpan.FromSeconds(5), "a save's retry shortened the unsaved end's TTL");

        // Saved: Chat:ReplayTtl from now.
        await state.SavedAsync(answer.ConversationId, answer.MessageId);
        var ended = await db.KeyTimeToLiveAsync(chunks);
        Assert.True(ended is { } ttl ? ttl <= TimeSpan.FromSeconds(1) : !await db.KeyExistsAsync(chunks), $"the saved answer's buffer lives {ended}"); // gone already, on a slow machine
        Assert.True(await db.KeyTimeToLiveAsync(key) is not { } stateTtl || stateTtl <= TimeSpan.FromSeconds(1));
    }
}
