using ChatStreaming.Persistence;
using ChatStreaming.Worker;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Generation;
using ChatStreaming.Worker.Intake;
using ChatStreaming.Worker.Redis;
using ChatStreaming.Worker.Streaming;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatStreaming.Hub.Tests.Streaming;

/// <summary>
/// The send flow without SignalR: the Worker's services against the cluster's real Redis and Postgres, the generator
/// not started (so the queue holds what it is given), the broadcast recorded.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ExchangeIntakeTests(ChatCluster cluster)
{
    [Fact]
    public async Task ASendToAnUnknownConversationIsRefusedAndItsAdmissionGivenBack()
    {
        using var worker = Worker(queueCapacity: 10);
        var intake = worker.Services.GetRequiredService<ExchangeIntake>();

        var result = await intake.AcceptAsync("intake-unknown", new SendMessageRequest(Guid.NewGuid(), "hello?", "key-unknown"));

        Assert.Equal(new RefusedSend(ChatErrors.ConversationNotFound), result);
        Assert.Equal(0, await cluster.RedisClient.GetDatabase().SortedSetLengthAsync(RedisKeys.UserSends("intake-unknown")));
        Assert.Equal(0, await cluster.RedisClient.GetDatabase().SortedSetLengthAsync(RedisKeys.UserActive("intake-unknown")));
    }

    [Fact]
    public async Task AFullConversationRefusesANewExchangeButGivesARepeatedClientKeyItsFirstPair()
    {
        using var worker = Worker(queueCapacity: 10);
        var store = worker.Services.GetRequiredService<ChatStore>();
        var conversation = await store.CreateConversationAsync("intake-full", "full", CancellationToken.None);
        var first = (await store.AddExchangeAsync("intake-full", conversation.Id, "one", "key-one", 2, CancellationToken.None)).Exchange!;

        // Two of two messages. The same key again (a retry whose admission Redis no longer holds) is not a new exchange.
        var repeat = await store.AddExchangeAsync("intake-full", conversation.Id, "one", "key-one", 2, CancellationToken.None);
        var send = await store.AddExchangeAsync("intake-full", conversation.Id, "two", "key-two", 2, CancellationToken.None);
        var edit = await store.AddEditAsync("intake-full", first.UserMessage.Id, "one, edited", "key-edit", 2, CancellationToken.None);
        var regenerate = await store.AddRegenerationAsync("intake-full", first.AssistantMessage.Id, "key-again", 2, CancellationToken.None);

        Assert.Equal((first.UserMessage.Id, first.AssistantMessage.Id, false), (repeat.Exchange!.UserMessage.Id, repeat.Exchange.AssistantMessage.Id, repeat.Exchange.IsNew));
        Assert.All([send, edit, regenerate], refused => Assert.Equal(ExchangeSave.Full, refused));
        await using var db = await cluster.Db.OpenConnectionAsync();
        Assert.Equal((2L, 2), (
            await Dapper.SqlMapper.ExecuteScalarAsync<long>(db, "SELECT count(*) FROM messages WHERE conversation_id = @Id", new { conversation.Id }),
            await Dapper.SqlMapper.ExecuteScalarAsync<int>(db, "SELECT message_count FROM conversations WHERE id = @Id", new { conversation.Id })));
    }

    [Fact]
    public async Task AnAcceptedSendThatLosesTheLastQueueSlotEndsItsAnswerFailedThroughTheFinisherAndIsNotOwned()
    {
        using var worker = Worker(queueCapacity: 1);
        var intake = worker.Services.GetRequiredService<ExchangeIntake>();
        var store = worker.Services.GetRequiredService<ChatStore>();
        var conversation = await store.CreateConversationAsync("intake-race", "race", CancellationToken.None);

        // Both are accepted while the queue is empty; only one fits.
        var first = Assert.IsType<AcceptedExchange>(await intake.AcceptAsync("intake-race", new SendMessageRequest(conversation.Id, "one", null)));
        var second = Assert.IsType<AcceptedExchange>(await intake.AcceptAsync("intake-race", new SendMessageRequest(conversation.Id, "two", null)));
        Assert.Null(await intake.StartAsync(first));
        var refused = await intake.StartAsync(second);

        Assert.Equal(new RefusedSend(ChatErrors.Busy), refused);
        var owned = worker.Services.GetRequiredService<OwnedAnswers>();
        Assert.True(owned.Owns(first.Result.AssistantMessageId));
        Assert.False(owned.Owns(second.Result.AssistantMessageId));
        Assert.Equal(new SavedAnswer("", "failed", 0), await cluster.SavedAsync(second.Result.AssistantMessageId));
        var announced = Assert.Single(worker.Services.GetRequiredService<RecordingBroadcaster>().Finished);
        Assert.Equal((second.Result.AssistantMessageId, MessageStatus.Failed, ChatErrors.Busy), (announced.MessageId, announced.Status, announced.Error));
        var state = await worker.Services.GetRequiredService<GenerationState>().GetGenerationAsync(conversation.Id, second.Result.AssistantMessageId);
        Assert.Equal(MessageStatus.Failed, state!.Status); // decided once in Redis too: no sweep will touch it
    }

    [Fact]
    public async Task ARetryOfAnAcceptedSendReturnsTheSameIdsAndIsNotNew()
    {
        using var worker = Worker(queueCapacity: 10);
        var intake = worker.Services.GetRequiredService<ExchangeIntake>();
        var conversation = await worker.Services.GetRequiredService<ChatStore>().CreateConversationAsync("intake-retry", "retry", CancellationToken.None);
        var request = new SendMessageRequest(conversation.Id, "once", "key-retry");

        var first = Assert.IsType<AcceptedExchange>(await intake.AcceptAsync("intake-retry", request));
        var again = Assert.IsType<AcceptedExchange>(await intake.AcceptAsync("intake-retry", request));

        Assert.True(first.IsNew);
        Assert.False(again.IsNew);
        Assert.Equal(first.Result, again.Result);
    }

    /// <summary>The Worker as the hub hosts it, but not started: no generator, no sweep; its broadcasts recorded.</summary>
    [Fact]
    public async Task ASendWhoseConversationIsDeletedBeforeItsAnswerRegistersStartsNothing()
    {
        using var worker = Worker(queueCapacity: 10);
        var (intake, store, conversations) = (worker.Services.GetRequiredService<ExchangeIntake>(), worker.Services.GetRequiredService<ChatStore>(), worker.Services.GetRequiredService<ChatStreaming.Worker.Facade.Conversations>());
        var conversation = await store.CreateConversationAsync("intake-deleted", "deleted while sending", CancellationToken.None);
        var accepted = Assert.IsType<AcceptedExchange>(await intake.AcceptAsync("intake-deleted", new SendMessageRequest(conversation.Id, "hello?", "key-deleted")));

        // The delete lands between the send's save and its answer's registration (the send was joining and announcing).
        Assert.True((await conversations.DeleteAsync("intake-deleted", conversation.Id, CancellationToken.None)).Value);
        var refused = await intake.StartAsync(accepted);

        // Before: registered and queued, so an answer nobody could see was generated and charged, and its Redis keys
        // (state, replay buffer) outlived the delete.
        Assert.Equal(new RefusedSend(ChatErrors.ConversationNotFound), refused);
        var db = cluster.RedisClient.GetDatabase();
        Assert.False(await db.KeyExistsAsync(RedisKeys.Generation(conversation.Id, accepted.Result.AssistantMessageId)));
        Assert.False(worker.Services.GetRequiredService<OwnedAnswers>().Owns(accepted.Result.AssistantMessageId));
        Assert.Equal(0, await db.SortedSetLengthAsync(RedisKeys.UserActive("intake-deleted")));
    }

    private IHost Worker(int queueCapacity) => WorkerHost.Create(
        cluster,
        new Dictionary<string, string> { ["Chat:GeneratorQueueCapacity"] = queueCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        services => services.AddSingleton<RecordingBroadcaster>().AddSingleton<IChatBroadcaster>(sp => sp.GetRequiredService<RecordingBroadcaster>()));

    private sealed class RecordingBroadcaster : IChatBroadcaster
    {
        public System.Collections.Concurrent.ConcurrentQueue<GenerationFinished> Finished { get; } = new();

        public Task MessageAddedAsync(Message message) => Task.CompletedTask;

        public Task GenerationStartedAsync(GenerationStarted started) => Task.CompletedTask;

        public Task<ChunkWrite> ChunkAsync(AnswerKeys keys, Chunk chunk, byte[]? continuation = null) => Task.FromResult(ChunkWrite.Written);

        public Task GenerationResumedAsync(GenerationResumed resumed) => Task.CompletedTask;

        public Task GenerationFinishedAsync(GenerationFinished finished)
        {
            Finished.Enqueue(finished);
            return Task.CompletedTask;
        }
    }
}
