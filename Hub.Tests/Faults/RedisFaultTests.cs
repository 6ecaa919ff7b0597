using System.Globalization;
using System.Text.RegularExpressions;
using ChatStreaming.Client.Core;
using Dapper;
using Microsoft.AspNetCore.SignalR;
using Xunit.Abstractions;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>The real redis-server of the cluster restarted or its pub/sub connections killed, mid-answer.</summary>
[Collection(OutageCollection.Name)]
public sealed class RedisFaultTests(ChatCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task ARedisRestartMidAnswerEndsWithTheSavedAnswerAndTheHubsRecover()
    {
        // The client a user runs (Client.Core): it reopens the conversation when a streaming answer goes quiet, because
        // an end published while a hub was re-subscribing is lost (the backplane delivers at most once).
        await using var watched = await WatchedAnswer.StartAsync(cluster, "redis-restart", cluster.A, 20, 120, "survive a restart", TimeSpan.FromSeconds(4));
        var (token, sent, conversationId) = (watched.Token, watched.Sent, watched.Session.ConversationId!.Value);

        await cluster.Redis.StopProcessAsync();
        await Task.Delay(TimeSpan.FromSeconds(3)); // Redis is down for a while (this is the fault, not a wait for an event)
        await cluster.Redis.StartProcessAsync(); // same port, all data lost
        var back = DateTimeOffset.UtcNow;
        var answer = await watched.Done.WaitAsync(TimeSpan.FromSeconds(40));
        output.WriteLine($"measured: the client had the answer's saved end {(DateTimeOffset.UtcNow - back).TotalSeconds:0.0} s after Redis returned");

        // An explicit end with the saved text, whatever chunks were lost while Redis was away.
        Assert.Equal(sent.AssistantMessageId, answer.MessageId);
        Assert.Equal(MessageStatus.Completed, answer.Finished!.Status);
        Assert.Equal(answer.Finished.Content, answer.Text.ToString());
        Assert.Equal(SavedAnswer.Of(answer.Finished), await cluster.SavedAsync(sent.AssistantMessageId));

        // The hubs recovered by themselves: a new answer streams whole from instance A to a client on B.
        await using var client = await ChatTestClient.ConnectAsync(cluster.A, token);
        await using var other = await ChatTestClient.ConnectAsync(cluster.B, token);
        await other.Hub.JoinConversation(conversationId);
        var again = await client.SendAsync(conversationId, "and after it?");
        var next = await other.WaitForFinishedAsync(again.AssistantMessageId, TimeSpan.FromSeconds(30));
        StreamAssert.ExactlyOnceInOrder(other.ChunksOf(again.AssistantMessageId), next);
    }

    [Fact]
    public async Task ARedisPausedMidAnswerLeavesRedisFreeCallsAnsweringAndTheAnswerThenCompletesExactly()
    {
        // Commands time out during the pause (with the default 5 s timeout that would be a race with SIGCONT): the
        // generator must take a timeout like any other Redis failure, retry, and still complete the answer.
        var shortTimeouts = new Dictionary<string, string>
        {
            ["ConnectionStrings:Redis"] = $"{cluster.Redis.ConnectionString},asyncTimeout=1500,syncTimeout=1500",
        };
        await using var watched = await WatchedAnswer.StartAsync(cluster, "redis-pause", cluster.A, 20, 120, "wait for me", overrides: shortTimeouts);
        var (token, sent, conversationId) = (watched.Token, watched.Sent, watched.Session.ConversationId!.Value);
        await using var bystander = await ChatTestClient.ConnectAsync(cluster.B, token);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);

        // A call answered: the hub has finished setting this connection up (the backplane subscribes to its channels in
        // Redis before the connection's first invocation runs; a connection opened during the pause waits for that).
        await bystander.Hub.ListConversations();
        cluster.Redis.Signal(Signals.Stop);
        try
        {
            var pause = Task.Delay(TimeSpan.FromSeconds(5)); // the pause lasts at least 5 s (the fault, not a wait for an event)
            // Calls that need only Postgres (or nothing) keep answering while Redis is frozen.
            var listed = await bystander.Hub.ListConversations().WaitAsync(TimeSpan.FromSeconds(2));
            Assert.Contains(listed, c => c.Id == conversationId);
            Assert.True((await http.GetAsync($"{cluster.B}{ChatHubPaths.Conversations}/{conversationId}/messages")).IsSuccessStatusCode);
            Assert.True((await http.GetAsync($"{cluster.A}/health/live")).IsSuccessStatusCode);

            // Calls that need Redis say so clearly once it times out (1.5 s on the generator, checked every second; one
            // connection's calls run one after the other), and a send saves nothing.
            var asked = DateTimeOffset.UtcNow;
            var replay = await Assert.ThrowsAsync<HubException>(() =>
                watched.Sender.Hub.GetChunks(sent.AssistantMessageId, 0L).WaitAsync(TimeSpan.FromSeconds(8)));
            var send = await Assert.ThrowsAsync<HubException>(() => watched.Sender.SendAsync(conversationId, "now?").WaitAsync(TimeSpan.FromSeconds(8)));
            output.WriteLine($"measured: GetChunks and SendMessage refused as unavailable {(DateTimeOffset.UtcNow - asked).TotalSeconds:0.0} s after they were called");
            Assert.EndsWith(ChatErrors.Unavailable, replay.Message, StringComparison.Ordinal);
            Assert.EndsWith(ChatErrors.Unavailable, send.Message, StringComparison.Ordinal);
            await pause;
        }
        finally
        {
            cluster.Redis.Signal(Signals.Continue);
        }

        var resumed = DateTimeOffset.UtcNow;
        var answer = await watched.Done.WaitAsync(TimeSpan.FromSeconds(40));
        output.WriteLine($"measured: answer complete {(DateTimeOffset.UtcNow - resumed).TotalSeconds:0.0} s after SIGCONT");
        Assert.Equal((sent.AssistantMessageId, MessageStatus.Completed), (answer.MessageId, answer.Finished!.Status));
        Assert.Equal(answer.Finished.Content, answer.Text.ToString());
        Assert.Contains("wait", answer.Finished.Content, StringComparison.Ordinal); // the simulated model echoes the prompt
        var replayed = await bystander.Hub.GetChunks(sent.AssistantMessageId, 0L);
        StreamAssert.ExactlyOnceInOrder(replayed, answer.Finished); // each chunk written once, none lost, despite retries
        Assert.Equal(SavedAnswer.Of(answer.Finished), await cluster.SavedAsync(sent.AssistantMessageId));
        await using var connection = await cluster.Db.OpenConnectionAsync();
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>( // the question and its answer: the refused send saved nothing
            "SELECT count(*) FROM messages WHERE conversation_id = @conversationId", new { conversationId }));
    }

    [Fact]
    public async Task ACancelWhosePubSubNoticeIsLostStillStopsTheAnswer()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:Model:Simulated:TokensPerSecond"] = "20";
        settings["Chat:Model:Simulated:ResponseTokens"] = "400";
        await using var generator = await HubInstance.StartAsync(settings);
        await using var client = await cluster.ConnectAsync(generator.Url, "lost-cancel");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "stop me quietly");
        await client.WaitForChunksAsync(sent.AssistantMessageId, 3);

        // What CancelGeneration records, without the pub/sub notice (as if it was published while a subscription was down).
        await cluster.RedisClient.GetDatabase().HashSetAsync(ChatStreaming.Worker.Redis.RedisKeys.Generation(conversation.Id, sent.AssistantMessageId), "cancel", "1");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(10));

        Assert.Equal(MessageStatus.Cancelled, finished.Status);
        Assert.True(finished.LastSequence < 200, "stopped soon after the flag was set");
    }

    [Fact]
    public async Task ChunksPublishedWhilePubSubIsDownAreRecoveredByTheClientsGapDetection()
    {
        await using var watched = await WatchedAnswer.StartAsync(cluster, "pubsub-kill", cluster.A, 25, 150, "mind the gap");
        var sent = watched.Sent;
        var server = cluster.RedisClient.GetServers().Single();
        await server.ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        var answer = await watched.Done.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(sent.AssistantMessageId, answer.MessageId);
        Assert.Equal(answer.Finished!.Content, answer.Text.ToString()); // exact, whatever the pub/sub gap cost
        Assert.Equal(MessageStatus.Completed, answer.Finished.Status);
        await Wait.UntilAsync(async () => RedisResultArray(await server.ExecuteAsync("PUBSUB", "CHANNELS")).Length > 0,
            TimeSpan.FromSeconds(5), "pub/sub was not re-subscribed within 5 s");
    }

    [Fact]
    public async Task AHubStartedWhileRedisIsDownServesOnceRedisArrives()
    {
        await using var lateRedis = await RedisServer.StartAsync();
        await lateRedis.StopProcessAsync(); // a port where Redis will appear later
        var settings = cluster.Settings.ToDictionary();
        settings["ConnectionStrings:Redis"] = lateRedis.ConnectionString;
        await using var hub = HubInstance.Launch(settings);
        var url = await HubInstance.ListeningUrlAsync(hub);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Wait.UntilAsync(async () =>
        {
            try
            {
                return (await http.GetAsync($"{url}/health/live")).IsSuccessStatusCode;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the hub did not start while Redis was down"); // ≈ 12 s idle: each Redis connection waits out its connect timeout
        Assert.False((await http.GetAsync($"{url}/health/ready")).IsSuccessStatusCode); // not ready without Redis

        await lateRedis.StartProcessAsync();
        await Wait.UntilAsync(async () => (await http.GetAsync($"{url}/health/ready")).IsSuccessStatusCode, TimeSpan.FromSeconds(30), "the hub did not become ready");
        await using var client = await cluster.ConnectAsync(url, "late-redis");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "now it works");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(20));

        Assert.False(hub.HasExited);
        StreamAssert.ExactlyOnceInOrder(client.ChunksOf(sent.AssistantMessageId), finished);
    }

    [Fact]
    public async Task ASendWhoseAnswerRedisRefusesToRegisterIsRefusedAsUnavailableAndItsAnswerEndsFailedAtOnce()
    {
        // A Redis user that may touch the per-user limit keys but not an answer's keys: the admission passes, the
        // message is saved, the answer's registration fails — as when Redis goes away in the moment between the two.
        await cluster.RedisClient.GetServers().Single().ExecuteAsync(
            "ACL", "SETUSER", "no-answers", "reset", "on", ">no-answers-secret", "+@all", "allchannels", "~chatstreaming:user:*", "~chatstreaming:leases");
        var settings = cluster.Settings.ToDictionary();
        settings["ConnectionStrings:Redis"] = $"{cluster.Redis.ConnectionString},user=no-answers,password=no-answers-secret";
        await using var hub = await HubInstance.StartAsync(settings);
        await using var client = await cluster.ConnectAsync(hub.Url, "half-registered");
        var conversation = await client.CreateConversationAsync();

        var refused = await Assert.ThrowsAsync<HubException>(() => client.SendAsync(conversation.Id, "will my answer end?"));

        Assert.EndsWith(ChatErrors.Unavailable, refused.Message, StringComparison.Ordinal);
        await using var connection = await cluster.Db.OpenConnectionAsync();
        var saved = (await connection.QueryAsync<(string Role, string Status, string? Error)>(
            "SELECT role, status, error FROM messages WHERE conversation_id = @Id ORDER BY role DESC", new { conversation.Id })).ToList();
        (string, string, string?)[] expected = [("user", "completed", null), ("assistant", "failed", ChatErrors.Unavailable)]; // not left streaming
        Assert.Equal(expected, saved);
    }

    /// <summary>
    /// What a failover to a replica that missed the last writes does to an answer, made exact: the generator is paused, its
    /// answer's replay buffer loses its last chunks (rebuilt without them, as the replica holds it), the generator's Redis
    /// connections drop; resumed, its next append finds the gap, it writes back the lost chunks from memory, and the
    /// buffer ends holding every sequence once. (Fails without the write-back: the buffer keeps a hole.)
    /// </summary>
    [Fact]
    public async Task ChunksRedisLostFromAReplayBufferAreWrittenBackByTheGeneratorBeforeTheNext()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["ConnectionStrings:Redis"] = $"{cluster.Redis.ConnectionString},name=loses-its-tail";
        settings["Chat:Model:Simulated:TokensPerSecond"] = "20";
        settings["Chat:Model:Simulated:ResponseTokens"] = "200";
        await using var generator = await HubInstance.StartAsync(settings);
        await using var client = await cluster.ConnectAsync(generator.Url, "loses-its-tail");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "lose my tail");
        await client.WaitForChunksAsync(sent.AssistantMessageId, 10);

        var db = cluster.RedisClient.GetDatabase();
        var key = Worker.Redis.RedisKeys.Chunks(conversation.Id, sent.AssistantMessageId);
        generator.Process.Signal(Signals.Stop);
        int lost;
        try
        {
            var entries = await db.StreamRangeAsync(key);
            lost = Math.Min(3, entries.Length - 1);
            var ttl = await db.KeyTimeToLiveAsync(key);
            await db.KeyDeleteAsync(key);
            foreach (var entry in entries[..^lost])
            {
                await db.StreamAddAsync(key, entry.Values, entry.Id);
            }

            await db.KeyExpireAsync(key, ttl);
            var server = cluster.RedisClient.GetServers().Single();
            foreach (var connection in (await server.ClientListAsync()).Where(c => c.Name == "loses-its-tail"))
            {
                await server.ClientKillAsync(connection.Id);
            }
        }
        finally
        {
            generator.Process.Signal(Signals.Continue);
        }

        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(60));
        Assert.Equal(MessageStatus.Completed, finished.Status);
        var replayed = await client.Hub.GetChunks(sent.AssistantMessageId, 0L);
        StreamAssert.ExactlyOnceInOrder(replayed, finished);
        // At least the chunks taken out: an append the generator sent just before it was stopped may reach Redis between
        // the read and the rebuild, and be lost with them (seen once in a busy-core run).
        var writtenBack = generator.Process.Output.Select(l => Regex.Match(l, @"Redis had lost (\d+) chunks")).Where(m => m.Success).ToList();
        Assert.True(
            writtenBack.Any(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) >= lost),
            $"no write-back of {lost} or more chunks logged; logged: [{string.Join(", ", writtenBack.Select(m => m.Value))}]");
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId));
    }

    /// <summary>
    /// Each chunk runs the append script by its hash (EVALSHA). A Redis that forgot its scripts (SCRIPT FLUSH here; a
    /// restart or a failover to a node that never ran them does the same) answers NOSCRIPT: the chunk then goes with the
    /// script's text, which loads it again, and the answer goes on with nothing lost, doubled or failed.
    /// </summary>
    [Fact]
    public async Task AnAnswerGoesOnWholeWhenRedisForgetsItsScriptsMidAnswer()
    {
        var generator = await cluster.LongAnswerHubAsync();
        var token = await cluster.TokenAsync("script-flush");
        await using var sender = await ChatTestClient.ConnectAsync(generator.Url, token);
        await using var watcher = await ChatTestClient.ConnectAsync(cluster.B, token);
        var conversation = await sender.CreateConversationAsync();
        await watcher.Hub.JoinConversation(conversation.Id);
        var sent = await sender.SendAsync(conversation.Id, "forget your scripts");
        await watcher.WaitForChunksAsync(sent.AssistantMessageId, 10);

        await cluster.RedisClient.GetServers().Single().ScriptFlushAsync();
        var flushedAt = watcher.ChunksOf(sent.AssistantMessageId).Max(c => c.Sequence);
        await Wait.UntilAsync(() => watcher.ChunksOf(sent.AssistantMessageId).Max(c => c.Sequence) >= flushedAt + 20,
            TimeSpan.FromSeconds(30), "the answer did not go on after SCRIPT FLUSH");
        await sender.Hub.CancelGeneration(sent.AssistantMessageId);
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId);

        Assert.Equal(MessageStatus.Cancelled, finished.Status);
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(sent.AssistantMessageId), finished);
        StreamAssert.ExactlyOnceInOrder(sender.ChunksOf(sent.AssistantMessageId), finished);
        StreamAssert.ExactlyOnceInOrder(await watcher.Hub.GetChunks(sent.AssistantMessageId, 0L), finished);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId));
        Assert.DoesNotContain(generator.Process.Output, l => l.Contains(sent.AssistantMessageId.ToString(), StringComparison.Ordinal)
            && l.Contains("fail", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Under the default per-user read limit (which is counted in Redis), calls that need only Postgres keep answering
    /// while Redis is down: the limit is counted by the instance alone meanwhile (LocalCallLimits). Failed before: every
    /// read was refused "unavailable" by the limit's Redis script.
    /// </summary>
    [Fact]
    public async Task WithTheDefaultReadLimitReadsKeepAnsweringWhileRedisIsDown()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = cluster.Settings.Where(s => s.Key is not ("Chat:ReadsPerMinutePerUser" or "Chat:ConversationsPerMinutePerUser")).ToDictionary();
        settings["ConnectionStrings:Redis"] = redis.ConnectionString;
        await using var hub = await HubInstance.StartAsync(settings);
        await using var client = await cluster.ConnectAsync(hub.Url, "reads-without-redis");
        var conversation = await client.CreateConversationAsync("kept without redis");
        await client.Hub.ListConversations();

        await redis.StopProcessAsync();

        var listed = await client.Hub.ListConversations().WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Contains(listed, c => c.Id == conversation.Id);
        var page = await client.Hub.GetMessages(conversation.Id, null, null).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Empty(page.Messages);
        Assert.Contains(hub.Process.Output, l => l.Contains("counted by this instance alone", StringComparison.Ordinal));
    }

    private static StackExchange.Redis.RedisResult[] RedisResultArray(StackExchange.Redis.RedisResult result) => (StackExchange.Redis.RedisResult[])result!;
}
