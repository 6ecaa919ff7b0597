using ChatStreaming.Client.Core;
using Microsoft.AspNetCore.SignalR;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>The .NET client logic (<see cref="ChatSession"/>) shared by the console client and the Blazor app.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ChatSessionTests(ChatCluster cluster)
{
    [Fact]
    public async Task OpeningAnotherConversationLeavesThePreviousOneSoItsAnswersNoLongerArrive()
    {
        var token = await cluster.TokenAsync("switcher");
        await using var session = new ChatSession(new Uri(cluster.A), () => Task.FromResult<string?>(token));
        var heard = new System.Collections.Concurrent.ConcurrentQueue<Guid>();
        session.ChunkReceived += chunk => heard.Enqueue(chunk.MessageId);
        await session.StartAsync(CancellationToken.None);
        var first = await session.CreateConversationAsync("first", CancellationToken.None);
        var second = await session.CreateConversationAsync("second", CancellationToken.None);
        await session.OpenAsync(first.Id, CancellationToken.None);
        await session.OpenAsync(second.Id, CancellationToken.None);
        await using var elsewhere = await ChatTestClient.ConnectAsync(cluster.B, token);

        var left = await elsewhere.SendAsync(first.Id, "in the conversation left behind");
        await elsewhere.WaitForFinishedAsync(left.AssistantMessageId);
        var open = await session.SendAsync("in the open one", CancellationToken.None);
        await Wait.UntilAsync(() => session.Find(open.AssistantMessageId)?.Finished is not null, Wait.Default, "the open conversation's answer did not end");

        Assert.Contains(open.AssistantMessageId, heard);
        Assert.DoesNotContain(left.AssistantMessageId, heard);
    }

    [Fact]
    public async Task AConversationThatCannotBeOpenedLeavesTheOneOpenBeforeOpenAndLive()
    {
        var token = await cluster.TokenAsync("open-refused");
        await using var session = new ChatSession(new Uri(cluster.A), () => Task.FromResult<string?>(token));
        await session.StartAsync(CancellationToken.None);
        var open = await session.CreateConversationAsync("stays open", CancellationToken.None);

        await Assert.ThrowsAsync<HubException>(() => session.OpenAsync(Guid.NewGuid(), CancellationToken.None)); // not found

        // Before: the session had left the open conversation and switched to the unknown one, so its answers stopped
        // arriving and a send went nowhere.
        Assert.Equal(open.Id, session.ConversationId);
        await using var elsewhere = await ChatTestClient.ConnectAsync(cluster.B, token);
        var sent = await elsewhere.SendAsync(open.Id, "still heard");
        await Wait.UntilAsync(() => session.Find(sent.AssistantMessageId)?.Finished is not null, Wait.Default, "the conversation open before no longer gets its answers");
    }

    [Fact]
    public async Task TheOpenConversationDeletedFromAnotherTabIsLeftSoItsSubscriptionGoes()
    {
        var token = await cluster.TokenAsync("deleted-while-open");
        await using var session = new ChatSession(new Uri(cluster.A), () => Task.FromResult<string?>(token));
        await session.StartAsync(CancellationToken.None);
        var conversation = await session.CreateConversationAsync("deleted elsewhere", CancellationToken.None);
        var events = Worker.Redis.RedisKeys.ConversationEvents(conversation.Id);
        var redis = cluster.RedisClient.GetServer(cluster.RedisClient.GetEndPoints()[0]);
        Assert.Equal(1, await redis.SubscriptionSubscriberCountAsync(events)); // instance A, for the session's connection

        await using var elsewhere = await ChatTestClient.ConnectAsync(cluster.B, token);
        Assert.True(await elsewhere.Hub.DeleteConversation(conversation.Id));

        // Before: the session forgot the id and never left (nor could it: the leave was refused as "not found"), so its
        // connection stayed in the deleted conversation's group, and instance A subscribed to it, until it closed.
        await Wait.UntilAsync(async () => await redis.SubscriptionSubscriberCountAsync(events) == 0, Wait.Default, "the deleted conversation's group was not left");
        Assert.Null(session.ConversationId);
    }

    [Fact]
    public async Task AnAnswerLeftOnAnotherBranchThatEndedUnheardIsRejoinedForOnceNotForEver()
    {
        // Its question was edited while it streamed, and it ended while this session had another conversation open: the
        // conversation's snapshot (its active branch) does not hold it, so no rejoin brings its end. The watchdog
        // rejoined for it every QuietLimit for as long as the conversation stayed open (a join and a Postgres read every
        // 10 s by default, for ever).
        var hub = await cluster.LongAnswerHubAsync();
        var token = await cluster.TokenAsync("off-branch");
        await using var session = new ChatSession(new Uri(hub.Url), () => Task.FromResult<string?>(token)) { QuietLimit = TimeSpan.FromSeconds(1) };
        var rejoins = 0;
        session.Rejoined += _ => Interlocked.Increment(ref rejoins);
        await session.StartAsync(CancellationToken.None);
        var elsewhere = await session.CreateConversationAsync("elsewhere", CancellationToken.None);
        var branched = await session.CreateConversationAsync("branched", CancellationToken.None);
        await using var watcher = await ChatTestClient.ConnectAsync(hub.Url, token);
        await watcher.Hub.JoinConversation(branched.Id);
        var first = await session.SendAsync("the question before its edit", CancellationToken.None);
        await Wait.UntilAsync(() => session.Find(first.AssistantMessageId)?.LastSequence > 0, Wait.Default, "the first answer did not stream");
        var edited = await session.EditAsync(first.UserMessageId, "the question edited", CancellationToken.None);
        await Wait.UntilAsync(() => session.Find(edited.AssistantMessageId)?.LastSequence > 0, Wait.Default, "the edited question's answer did not stream");

        await session.OpenAsync(elsewhere.Id, CancellationToken.None);
        Assert.True(await session.CancelAsync(first.AssistantMessageId)); // ends unheard: the session left its conversation
        Assert.True(await session.CancelAsync(edited.AssistantMessageId));
        await watcher.WaitForFinishedAsync(first.AssistantMessageId);
        await watcher.WaitForFinishedAsync(edited.AssistantMessageId);
        await session.OpenAsync(branched.Id, CancellationToken.None);
        Assert.Equal(MessageStatus.Cancelled, session.Find(edited.AssistantMessageId)!.Finished?.Status); // on the branch shown
        Interlocked.Exchange(ref rejoins, 0);
        await Task.Delay(TimeSpan.FromSeconds(5));

        Assert.InRange(Volatile.Read(ref rejoins), 0, 1); // before: one a second
        Assert.DoesNotContain(first.AssistantMessageId, session.Streaming()); // nor does the Stop button list it
        // Shown again (its branch chosen), its end is in the snapshot.
        await session.SelectBranchAsync(first.AssistantMessageId, CancellationToken.None);
        Assert.Equal(MessageStatus.Cancelled, session.Find(first.AssistantMessageId)!.Finished?.Status);
    }

    [Fact]
    public async Task MessagePackAndJsonClientsInOneConversationEachGetEveryChunkOnceInOrderAndTheSavedText()
    {
        var token = await cluster.TokenAsync("binary");
        await using var sender = new ChatSession(new Uri(cluster.A), () => Task.FromResult<string?>(token), protocol: ChatHubProtocol.MessagePack);
        await using var packed = new ChatSession(new Uri(cluster.B), () => Task.FromResult<string?>(token), protocol: ChatHubProtocol.MessagePack);
        await using var json = new ChatSession(new Uri(cluster.B), () => Task.FromResult<string?>(token));
        var heard = new[] { new List<Chunk>(), new List<Chunk>(), new List<Chunk>() };
        ChatSession[] sessions = [sender, packed, json];
        for (var i = 0; i < sessions.Length; i++)
        {
            var mine = heard[i];
            sessions[i].ChunkReceived += chunk => { lock (mine) { mine.Add(chunk); } };
            await sessions[i].StartAsync(CancellationToken.None);
        }

        var conversation = await sender.CreateConversationAsync("both protocols", CancellationToken.None);
        await sender.OpenAsync(conversation.Id, CancellationToken.None);
        await packed.OpenAsync(conversation.Id, CancellationToken.None);
        await json.OpenAsync(conversation.Id, CancellationToken.None);

        var sent = await sender.SendAsync("one answer, two protocols", CancellationToken.None);
        foreach (var session in sessions)
        {
            await Wait.UntilAsync(() => session.Find(sent.AssistantMessageId)?.Finished is not null, Wait.Default, "an answer did not end on a client");
        }

        var saved = await cluster.SavedAsync(sent.AssistantMessageId);
        Assert.Equal(MessageStatus.Completed.ToWireName(), saved.Status);
        foreach (var chunks in heard)
        {
            Chunk[] mine;
            lock (chunks)
            {
                mine = [.. chunks.Where(c => c.MessageId == sent.AssistantMessageId)];
            }

            Assert.Equal(Enumerable.Range(1, mine.Length).Select(i => (long)i), mine.Select(c => c.Sequence)); // once each, in order
            Assert.Equal(saved.Content, string.Concat(mine.Select(c => c.Delta)));
            Assert.Equal(saved.LastSequence, mine.Length);
        }
    }
}
