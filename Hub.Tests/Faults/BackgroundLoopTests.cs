using ChatStreaming.Persistence;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Generation;
using ChatStreaming.Worker.Intake;
using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Model;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>
/// The Worker's background loops outlive a failed tick, whatever failed: a loop that ended would stop the host (and leave
/// this instance's answers to be taken for orphans). The Worker's services in-process on the cluster's Redis and
/// Postgres, each loop started on its own as the host would run it.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class BackgroundLoopTests(ChatCluster cluster)
{
    [Fact]
    public async Task LeaseRenewalGoesOnAfterATickThatFailedWithSomethingOtherThanRedis()
    {
        using var worker = WorkerHost.Create(cluster, new Dictionary<string, string> { ["Chat:GenerationLease"] = "00:00:03" }); // a tick a second
        var (state, limiter, owned) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<UserLimiter>(), worker.Services.GetRequiredService<OwnedAnswers>());
        var heartbeat = RedisKeys.Instance(worker.Services.GetRequiredService<InstanceIdentity>().Id);

        // An answer owned here that ended elsewhere: the renewal cancels its generation here, and a callback on that
        // generation's token throws (a bug in whatever registered it), so the first tick fails with that, not with Redis.
        var (_, answer) = await Limits.RenewalRaceTests.RegisteredAsync(state, limiter, "loop");
        await state.FinishAsync(answer.ConversationId, answer.MessageId, MessageStatus.Completed, null);
        using var stopping = new CancellationTokenSource();
        using var generation = owned.Start(answer, stopping.Token);
        var failedCallbacks = 0;
        generation.Token.Register(() =>
        {
            Interlocked.Increment(ref failedCallbacks);
            throw new InvalidOperationException("a cancellation callback that throws");
        });
        using var renewer = ActivatorUtilities.CreateInstance<LeaseRenewer>(worker.Services); // as the host runs it

        await renewer.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => Volatile.Read(ref failedCallbacks) == 1, TimeSpan.FromSeconds(30), "the renewal never cancelled the answer");
            await cluster.RedisClient.GetDatabase().KeyDeleteAsync(heartbeat);

            // Before: the loop ended with the callback's exception (and the host with it); now the next tick renews.
            await Wait.UntilAsync(() => cluster.RedisClient.GetDatabase().KeyExistsAsync(heartbeat), TimeSpan.FromSeconds(30), "the heartbeat was not renewed after the failed tick");
            Assert.False(renewer.ExecuteTask!.IsCompleted, $"the renewal loop ended: {renewer.ExecuteTask.Exception?.InnerException?.Message}");
        }
        finally
        {
            await renewer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task CancelFlagPollingGoesOnAfterATickThatFailedWithSomethingOtherThanRedis()
    {
        var logs = new RecordingLoggerProvider();
        using var worker = WorkerHost.Create(cluster, services: s => s.AddSingleton<ILoggerProvider>(logs));
        var (state, limiter, owned) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<UserLimiter>(), worker.Services.GetRequiredService<OwnedAnswers>());
        using var stopping = new CancellationTokenSource();

        // Two answers generating here, each with its cancel flag set in Redis (the flag alone, as after a missed
        // pub/sub notice: only the poll can see it). Cancelling the first runs a callback that throws.
        var (_, first) = await Limits.RenewalRaceTests.RegisteredAsync(state, limiter, "poll-first");
        using var firstGeneration = owned.Start(first, stopping.Token);
        firstGeneration.Token.Register(() => throw new InvalidOperationException("a cancellation callback that throws"));
        await FlagCancelAsync(first);
        using var poller = ActivatorUtilities.CreateInstance<CancelFlagPoller>(worker.Services);

        await poller.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => logs.Logged("CancelPollFailed"), TimeSpan.FromSeconds(30), "the poll never failed on the throwing callback");
            var (_, second) = await Limits.RenewalRaceTests.RegisteredAsync(state, limiter, "poll-second");
            using var secondGeneration = owned.Start(second, stopping.Token);
            await FlagCancelAsync(second);

            // Before: the loop ended with the callback's exception (and the host with it); now the next tick cancels.
            await Wait.UntilAsync(() => secondGeneration.IsCancellationRequested, TimeSpan.FromSeconds(30), "the answer flagged after the failed tick was not cancelled");
            Assert.False(poller.ExecuteTask!.IsCompleted, "the cancel-flag poll ended");
            owned.Release(second.MessageId);
        }
        finally
        {
            await poller.StopAsync(CancellationToken.None);
            owned.Release(first.MessageId);
        }
    }

    [Fact]
    public async Task ConnectionRenewalGoesOnAfterATickThatFailed()
    {
        var logs = new RecordingLoggerProvider();
        using var worker = WorkerHost.Create(cluster, new Dictionary<string, string> { ["Chat:GenerationLease"] = "00:00:03" }, s => s.AddSingleton<ILoggerProvider>(logs)); // a tick a second
        var connections = worker.Services.GetRequiredService<UserConnections>();
        var user = $"connections-{Guid.NewGuid():N}";
        var db = cluster.RedisClient.GetDatabase();
        Assert.True(await connections.TryOpenAsync(user, "connection-1"));

        // The user's count is not a sorted set (another writer's bug): every renewal of it fails.
        await db.StringSetAsync(RedisKeys.UserConnections(user), "not a sorted set");
        using var renewer = ActivatorUtilities.CreateInstance<UserConnectionsRenewer>(worker.Services);
        await renewer.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => logs.Logged("ConnectionRenewalFailed"), TimeSpan.FromSeconds(30), "the renewal never failed on the wrong type");
            await db.KeyDeleteAsync(RedisKeys.UserConnections(user));

            // The next tick writes the open connection's entry again.
            await Wait.UntilAsync(
                async () => await db.SortedSetScoreAsync(RedisKeys.UserConnections(user), "connection-1") is not null,
                TimeSpan.FromSeconds(30),
                "the connection was not counted again after the failed tick");
            Assert.False(renewer.ExecuteTask!.IsCompleted, "the connection renewal ended");
        }
        finally
        {
            await renewer.StopAsync(CancellationToken.None);
            await connections.CloseAsync("connection-1");
        }
    }

    [Fact]
    public async Task AGeneratorSlotEndsTheAnswerOfAJobThatThrewOutOfTheGeneratorAndTakesTheNextJob()
    {
        var logs = new RecordingLoggerProvider();
        using var worker = WorkerHost.Create(
            cluster,
            new Dictionary<string, string> { ["Chat:MaxConcurrentGenerations"] = "1" },
            s => s.AddSingleton<ILoggerProvider>(logs).AddSingleton<ILocalConnections, NoLocalConnections>()); // the chunks go to Redis only
        var (intake, store, owned) = (worker.Services.GetRequiredService<ExchangeIntake>(), worker.Services.GetRequiredService<ChatStore>(), worker.Services.GetRequiredService<OwnedAnswers>());

        // Two jobs queued for the one slot; the first one's logging scope throws, before the generator's own handling
        // (a faulty provider), so it throws out of the generator with its answer not ended.
        var broken = await AcceptedAsync(intake, store, "slot-broken", "the broken one");
        logs.ThrowInScopeOf = broken.Result.AssistantMessageId;
        Assert.Null(await intake.StartAsync(broken));
        var next = await AcceptedAsync(intake, store, "slot-next", "the next one");
        Assert.Null(await intake.StartAsync(next));

        await using var path = await AnswerPath.StartAsync(worker);
        var generator = await path.StartGeneratorAsync();

        // Before: the slot ended with the exception (and the host with it), and the broken answer stayed streaming,
        // its lease renewed here for ever. Now it ends failed, and the same slot runs the next job to its end.
        await Wait.UntilAsync(async () => (await cluster.SavedAsync(next.Result.AssistantMessageId)).Status == "completed", TimeSpan.FromSeconds(60), "the next job did not complete");
        Assert.Equal(Simulated.Answer("the next one"), (await cluster.SavedAsync(next.Result.AssistantMessageId)).Content);
        var generatedBy = await cluster.RedisClient.GetDatabase().HashGetAsync(RedisKeys.Generation(next.ConversationId, next.Result.AssistantMessageId), "instance");
        Assert.Equal(worker.Services.GetRequiredService<InstanceIdentity>().Id, (string?)generatedBy);
        Assert.Equal(new SavedAnswer("", "failed", 0), await cluster.SavedAsync(broken.Result.AssistantMessageId));
        Assert.True(logs.Logged("GeneratorSlotFailed", broken.Result.AssistantMessageId), "the slot's failure was not logged");
        Assert.False(owned.Owns(broken.Result.AssistantMessageId), "the broken answer is still owned here (its lease renewed)");
        Assert.False(generator.ExecuteTask!.IsCompleted, "the generator ended");
    }

    [Fact]
    public async Task ATakenOverAnswerWhoseJobThrewOutOfTheGeneratorEndsInterruptedWithItsTextUnderItsEpoch()
    {
        var logs = new RecordingLoggerProvider();
        using var worker = WorkerHost.Create(cluster, services: s => s.AddSingleton<ILoggerProvider>(logs).AddSingleton<ILocalConnections, NoLocalConnections>());
        var (state, owned) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<OwnedAnswers>());
        await using var path = await AnswerPath.StartAsync(worker);
        var (conversation, answer) = await OrphanWithTwoChunksAsync(worker, "slot-takeover");

        // This instance takes it over (epoch 2) and queues it; its job throws out of the generator (a faulty logging provider).
        var claim = await state.ClaimOrphanAsync(conversation, answer, leaseExpired: true, takeOver: true);
        Assert.Equal(2L, claim!.Continuation!.Epoch);
        logs.ThrowInScopeOf = answer;
        Assert.True(await worker.Services.GetRequiredService<IAnswerContinuation>().TryContinueAsync(claim, CancellationToken.None));
        await path.StartGeneratorAsync();

        // Ended under the epoch this instance won (under the first one it would be fenced: nothing saved), with the
        // text the other instance streamed.
        await Wait.UntilAsync(async () => (await cluster.SavedAsync(answer)).Status != "streaming", TimeSpan.FromSeconds(30), "the answer was not ended");
        Assert.Equal(new SavedAnswer("Half an answer", "interrupted", 2), await cluster.SavedAsync(answer));
        Assert.True(logs.Logged("GeneratorSlotFailed", answer), "the slot's failure was not logged");
        await Wait.UntilAsync(() => !owned.Owns(answer), TimeSpan.FromSeconds(10), "the answer is still owned here"); // released after its end is announced
    }

    [Fact]
    public async Task ATakenOverAnswerCancelledBeforeItsJobRunsEndsCancelledWithTheTextItsDeadInstanceStreamed()
    {
        using var worker = WorkerHost.Create(cluster, services: s => s.AddSingleton<ILocalConnections, NoLocalConnections>());
        var (state, owned) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<OwnedAnswers>());
        await using var path = await AnswerPath.StartAsync(worker);
        var (conversation, answer) = await OrphanWithTwoChunksAsync(worker, "cancelled-takeover");

        // Its user pressed Stop while it stalled; then this instance takes it over (epoch 2) and its job starts.
        Assert.True(await state.RequestCancelAsync(conversation, answer));
        var claim = await state.ClaimOrphanAsync(conversation, answer, leaseExpired: true, takeOver: true);
        Assert.Equal(2L, claim!.Continuation!.Epoch);
        Assert.True(await worker.Services.GetRequiredService<IAnswerContinuation>().TryContinueAsync(claim, CancellationToken.None));
        await path.StartGeneratorAsync();

        // Before: the job saw the cancel before its relay existed and saved the answer cancelled and empty (sequence 0),
        // so the text its clients showed was gone from Postgres.
        await Wait.UntilAsync(async () => (await cluster.SavedAsync(answer)).Status != "streaming", TimeSpan.FromSeconds(30), "the answer was not ended");
        Assert.Equal(new SavedAnswer("Half an answer", "cancelled", 2), await cluster.SavedAsync(answer));
        await Wait.UntilAsync(() => !owned.Owns(answer), TimeSpan.FromSeconds(10), "the answer is still owned here"); // released after its end is announced
    }

    [Fact]
    public async Task AJobWhoseAnswerWasTakenOverWhileItWaitedInTheQueueStartsNothing()
    {
        using var worker = WorkerHost.Create(cluster, services: s => s.AddSingleton<ILocalConnections, NoLocalConnections>());
        var (intake, store, owned) = (worker.Services.GetRequiredService<ExchangeIntake>(), worker.Services.GetRequiredService<ChatStore>(), worker.Services.GetRequiredService<OwnedAnswers>());
        var accepted = await AcceptedAsync(intake, store, "taken-while-queued", "a question");
        Assert.Null(await intake.StartAsync(accepted)); // queued: this instance's generator is not running (paused, say)
        var (conversation, answer) = (accepted.ConversationId, accepted.Result.AssistantMessageId);

        // Meanwhile another instance takes it over (its lease lapsed, its instance silent): epoch 2.
        using var successor = WorkerHost.Create(cluster);
        var db = cluster.RedisClient.GetDatabase();
        var key = RedisKeys.Generation(conversation, answer);
        await db.HashSetAsync(key, [new("lease", 1), new("instance", "silent")]);
        var successorState = successor.Services.GetRequiredService<GenerationState>();
        Assert.Equal(2L, (await successorState.ClaimOrphanAsync(conversation, answer, leaseExpired: true, takeOver: true))!.Continuation!.Epoch);

        // What this instance publishes on the conversation's channel from now on.
        var heard = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var topology = worker.Services.GetRequiredService<RedisTopology>();
        var events = await cluster.RedisClient.GetSubscriber().SubscribeAsync(topology.ConversationEvents(conversation));
        events.OnMessage(m => heard.Enqueue(ConversationEvent.Decode(conversation, ((ReadOnlyMemory<byte>)m.Message).Span)?.Method ?? "?"));

        await using var path = await AnswerPath.StartAsync(worker);
        await path.StartGeneratorAsync();
        await Wait.UntilAsync(() => !owned.Owns(answer), TimeSpan.FromSeconds(30), "the job did not end");

        // A marker after the job's end: whatever the job published reached the subscriber before it.
        var marker = new Message(Guid.NewGuid(), conversation, MessageRole.User, "marker", MessageStatus.Completed, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null);
        await cluster.RedisClient.GetSubscriber().PublishAsync(topology.ConversationEvents(conversation), ConversationEvent.Encode(Guid.NewGuid(), marker));
        await Wait.UntilAsync(() => heard.Contains(ChatHubMethods.MessageAdded), TimeSpan.FromSeconds(10), "the marker did not arrive");
        await events.UnsubscribeAsync();

        // Before: it announced GenerationStarted after the takeover and ran the model for chunks that were all refused.
        Assert.Equal([ChatHubMethods.MessageAdded], heard.ToArray());
        Assert.Equal(0, await db.StreamLengthAsync(RedisKeys.Chunks(conversation, answer)));
        Assert.Equal("streaming", (string?)await db.HashGetAsync(key, "status"));
        Assert.Equal(successor.Services.GetRequiredService<InstanceIdentity>().Id, (string?)await db.HashGetAsync(key, "instance"));
        Assert.Equal("streaming", (await cluster.SavedAsync(answer)).Status);
        await successorState.FinishAsync(conversation, answer, MessageStatus.Interrupted, null, epoch: 2);
    }

    [Fact]
    public async Task AnAnswerPostgresHoldsFinalIsNotCarriedOnByATakeover()
    {
        using var worker = WorkerHost.Create(cluster, services: s => s.AddSingleton<ILocalConnections, NoLocalConnections>());
        var (state, owned) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<OwnedAnswers>());
        await using var path = await AnswerPath.StartAsync(worker);
        var (conversation, answer) = await OrphanWithTwoChunksAsync(worker, "final-in-postgres");

        // Its sender was told it failed (the registration's reply lost though Redis wrote its state): saved failed.
        await worker.Services.GetRequiredService<GenerationFinisher>().EndUnregisteredAsync(conversation, answer, "unavailable");
        var claim = await state.ClaimOrphanAsync(conversation, answer, leaseExpired: true, takeOver: true);

        // Before: queued and generated (and charged) to its end, then refused by the save, announced failed and empty.
        Assert.False(await worker.Services.GetRequiredService<IAnswerContinuation>().TryContinueAsync(claim!, CancellationToken.None));
        Assert.False(owned.Owns(answer));
        Assert.Equal(new SavedAnswer("", "failed", 0), await cluster.SavedAsync(answer));
        await state.FinishAsync(conversation, answer, MessageStatus.Interrupted, null, epoch: 2);
    }

    [Fact]
    public async Task AnOwnerCutOffFromRedisCannotSaveAnAnswerAnotherInstanceTookOver()
    {
        using var worker = WorkerHost.Create(cluster, services: s => s.AddSingleton<ILocalConnections, NoLocalConnections>());
        var (state, store, finisher) = (worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<ChatStore>(), worker.Services.GetRequiredService<GenerationFinisher>());
        await using var path = await AnswerPath.StartAsync(worker);
        var (conversation, answer) = await OrphanWithTwoChunksAsync(worker, "partitioned-owner");

        // Another instance takes it over (epoch 2) and raises its epoch in Postgres before it carries it on.
        Assert.Equal(2L, (await state.ClaimOrphanAsync(conversation, answer, leaseExpired: true, takeOver: true))!.Continuation!.Epoch);
        Assert.True(await store.TakeOverAsync(answer, 2, CancellationToken.None));
        Assert.True(await store.TakeOverAsync(answer, 2, CancellationToken.None)); // again, the same ownership: still its
        Assert.False(await store.TakeOverAsync(answer, 1, CancellationToken.None)); // an earlier one: refused

        // The first owner, cut off from Redis, never learnt it was taken over: its end goes to Postgres alone, under
        // epoch 1. Before: saved, so the successor's save was refused and its clients were told the first owner's text.
        var (announced, saved) = await finisher.SaveAndAnnounceAsync(conversation, new FinalMessage(answer, "the first owner's text", MessageStatus.Completed, 9, null, Epoch: 1));
        Assert.Null(announced);
        Assert.False(saved);
        Assert.Equal("streaming", (await cluster.SavedAsync(answer)).Status);

        // The successor's end is saved; once final, the answer is not taken over again.
        Assert.True((await finisher.SaveAndAnnounceAsync(conversation, new FinalMessage(answer, "Half an answer, carried on", MessageStatus.Completed, 4, null, Epoch: 2))).Saved);
        Assert.Equal(new SavedAnswer("Half an answer, carried on", "completed", 4), await cluster.SavedAsync(answer));
        Assert.False(await store.TakeOverAsync(answer, 3, CancellationToken.None));
        await state.FinishAsync(conversation, answer, MessageStatus.Completed, null, epoch: 2);
    }

    /// <summary>An answer another instance started and streamed two chunks of, then died (its lease lapsed, no heartbeat).</summary>
    private async Task<(Guid Conversation, Guid Answer)> OrphanWithTwoChunksAsync(IHost worker, string userPrefix)
    {
        var (store, state, limiter) = (worker.Services.GetRequiredService<ChatStore>(), worker.Services.GetRequiredService<GenerationState>(), worker.Services.GetRequiredService<UserLimiter>());
        var user = $"{userPrefix}-{Guid.NewGuid():N}";
        var conversation = await store.CreateConversationAsync(user, "takeover", CancellationToken.None);
        var exchange = (await store.AddExchangeAsync(user, conversation.Id, "a question", null, 100, CancellationToken.None)).Exchange!;
        var answer = exchange.AssistantMessage.Id;
        await state.RegisterAsync(answer, conversation.Id, exchange.UserMessage.Id, user, await limiter.AdmitAsync(user, conversation.Id, null));
        var broadcaster = worker.Services.GetRequiredService<IChatBroadcaster>();
        foreach (var (sequence, delta) in new[] { (1L, "Half "), (2L, "an answer") })
        {
            Assert.Equal(ChunkWrite.Written, await broadcaster.ChunkAsync(AnswerKeys.For(conversation.Id, answer), new Chunk(conversation.Id, answer, sequence, delta, 0)));
        }

        await cluster.RedisClient.GetDatabase().HashSetAsync(RedisKeys.Generation(conversation.Id, answer), [new("lease", 1), new("instance", "gone")]);
        return (conversation.Id, answer);
    }

    [Fact]
    public async Task AJobStillQueuedWhenTheShutdownGraceRunsOutEndsAsNeverStarted()
    {
        using var worker = WorkerHost.Create(
            cluster,
            new Dictionary<string, string>
            {
                ["Chat:MaxConcurrentGenerations"] = "1",
                ["Chat:ShutdownGrace"] = "00:00:01",
                ["Chat:Model:Simulated:ResponseTokens"] = "400", // ten seconds: the one slot is busy past the grace
            },
            s => s.AddSingleton<ILocalConnections, NoLocalConnections>());
        var (intake, store, owned) = (worker.Services.GetRequiredService<ExchangeIntake>(), worker.Services.GetRequiredService<ChatStore>(), worker.Services.GetRequiredService<OwnedAnswers>());
        var running = await AcceptedAsync(intake, store, "stop-running", "the running one");
        Assert.Null(await intake.StartAsync(running));
        var queued = await AcceptedAsync(intake, store, "stop-queued", "the queued one");
        Assert.Null(await intake.StartAsync(queued));
        await using var path = await AnswerPath.StartAsync(worker);
        await path.StartGeneratorAsync();

        await Wait.UntilAsync(() => owned.Running.Any(a => a.MessageId == running.Result.AssistantMessageId), TimeSpan.FromSeconds(30), "the first answer did not start");
        await path.StopAsync();

        // Before: the slot took the queued job after the stop, announced it started, and it ended "during the answer".
        await using var db = await cluster.Db.OpenConnectionAsync();
        const string Ended = "SELECT status, content, error FROM messages WHERE id = @Id";
        Assert.Equal(("interrupted", "", GeneratorService.NotStarted), await Dapper.SqlMapper.QuerySingleAsync<(string, string, string)>(db, Ended, new { Id = queued.Result.AssistantMessageId }));
        var (status, _, error) = await Dapper.SqlMapper.QuerySingleAsync<(string, string, string)>(db, Ended, new { Id = running.Result.AssistantMessageId });
        Assert.Equal(("interrupted", ModelOutcome.ShutDownDuringAnswer), (status, error));
        Assert.Empty(owned.Running);
    }

    private static async Task<AcceptedExchange> AcceptedAsync(ExchangeIntake intake, ChatStore store, string name, string prompt)
    {
        var user = $"{name}-{Guid.NewGuid():N}";
        var conversation = await store.CreateConversationAsync(user, name, CancellationToken.None);
        return Assert.IsType<AcceptedExchange>(await intake.AcceptAsync(user, new SendMessageRequest(conversation.Id, prompt, null)));
    }

    /// <summary>
    /// The Worker's services an answer's path needs, running in-process: the chunk writer, the outboxes, pacing and the
    /// lease renewal (without its heartbeat the hubs' sweep would take the answers over), then the generator when a test
    /// has queued what it needs; stopped in reverse, each within 30 s.
    /// </summary>
    private sealed class AnswerPath : IAsyncDisposable
    {
        private readonly IHost worker;
        private readonly List<IHostedService> running = [];

        private AnswerPath(IHost worker) => this.worker = worker;

        public static async Task<AnswerPath> StartAsync(IHost worker)
        {
            var path = new AnswerPath(worker);
            foreach (var service in worker.Services.GetServices<IHostedService>().Where(s => s is ChunkWriter or Outboxes or ChunkPacing or LeaseRenewer))
            {
                await path.StartAsync(service);
            }

            return path;
        }

        public async Task<GeneratorService> StartGeneratorAsync()
        {
            var generator = worker.Services.GetServices<IHostedService>().OfType<GeneratorService>().Single();
            await StartAsync(generator);
            return generator;
        }

        public async Task StopAsync()
        {
            using var within = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            for (var i = running.Count - 1; i >= 0; i--)
            {
                await running[i].StopAsync(within.Token);
            }

            running.Clear();
        }

        public async ValueTask DisposeAsync() => await StopAsync();

        private async Task StartAsync(IHostedService service)
        {
            await service.StartAsync(CancellationToken.None);
            running.Add(service);
        }
    }

    /// <summary>The hub's connections, without a hub: nobody watches here.</summary>
    private Task FlagCancelAsync(OwnedAnswer answer) =>
        cluster.RedisClient.GetDatabase().HashSetAsync(RedisKeys.Generation(answer.ConversationId, answer.MessageId), "cancel", "1");
}
