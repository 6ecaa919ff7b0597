using System.Globalization;
using ChatStreaming.Worker.Ending;
using ChatStreaming.Worker.Redis;
using Dapper;
using Microsoft.AspNetCore.SignalR.Client;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>Postgres, the only durable store, away when answers end; answers whose instance never saved them.</summary>
[Collection(FaultCollection.Name)] // with the faults for balance (README, "Tests"): the outages collection was the longest
public sealed class PostgresFaultTests(ChatCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task AnAnswerThatEndsWhilePostgresIsDownIsSavedOnceWhenItReturnsAndItsReplayOutlivesTheTtl()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:ReplayTtl"] = "00:00:03"; // shorter than the outage: the buffer is held by an unsaved end's TTL floor (3 min) and the save's keep-alive
        settings["Chat:Model:Simulated:TokensPerSecond"] = "20";
        settings["Chat:Model:Simulated:ResponseTokens"] = "40";
        await using var generator = await HubInstance.StartAsync(settings);
        var token = await cluster.TokenAsync("postgres-outage");
        await using var watcher = await ChatTestClient.ConnectAsync(cluster.A, token);
        await using var sender = await ChatTestClient.ConnectAsync(generator.Url, token);
        var conversation = await watcher.CreateConversationAsync();
        var sent = await sender.SendAsync(conversation.Id, Prompt.Text);
        await watcher.WaitForChunksAsync(sent.AssistantMessageId, 5);

        await cluster.Postgres.StopProcessAsync();
        IReadOnlyList<Chunk> replayedDuringOutage;
        try
        {
            await watcher.WaitForTextAsync(sent.AssistantMessageId, Prompt.Whole); // the answer ends while Postgres is down
            await Task.Delay(TimeSpan.FromSeconds(6)); // twice the replay TTL (the fault lasts, not a wait for an event)
            replayedDuringOutage = await watcher.Hub.GetChunks(sent.AssistantMessageId, 0L);
            Assert.Null(watcher.FinishedOf(sent.AssistantMessageId)); // not announced before it is saved
        }
        finally
        {
            await cluster.Postgres.StartProcessAsync();
            cluster.Db.Clear(); // the test's own pooled connections died with the server
        }

        var back = DateTimeOffset.UtcNow;
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(30));
        output.WriteLine($"measured: saved and announced {(DateTimeOffset.UtcNow - back).TotalSeconds:0.0} s after Postgres returned");
        Assert.Equal((MessageStatus.Completed, Prompt.Whole), (finished.Status, finished.Content));
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(sent.AssistantMessageId), finished);
        Assert.Equal(finished.Content, string.Concat(replayedDuringOutage.Select(c => c.Delta)));
        Assert.Single(watcher.AllFinishedOf(sent.AssistantMessageId));
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId));
    }

    private static readonly (string Text, string Whole) Prompt = ("end while the database is away", Simulated.Answer("end while the database is away", 40));

    [Fact]
    public async Task AnswersStillStreamingInPostgresThatNoInstanceOwnsAreEndedByTheSweep()
    {
        // Three answers Postgres says are streaming, none with a lease: one Redis lost entirely, one an instance
        // decided long ago but never saved (it died between deciding and saving), one decided a moment ago (its
        // instance may still be saving it: left alone).
        const string User = "swept";
        var conversationId = Guid.NewGuid();
        var (lost, unsaved, recent) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await using (var connection = await cluster.Db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "INSERT INTO conversations (id, owner_id, title, created_at, updated_at) VALUES (@conversationId, @User, 'swept', now(), now())",
                new { conversationId, User });
        }

        // Joined before there is anything to sweep: any instance (the cluster's own too) may sweep from then on.
        await using var owner = await cluster.ConnectAsync(cluster.B, User);
        await owner.Hub.JoinConversation(conversationId);
        // Redis first: a sweep that saw the rows before the decided end was in Redis would call it lost.
        var db = cluster.RedisClient.GetDatabase();
        var longAgo = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds();
        foreach (var (id, ended) in new[] { (unsaved, longAgo), (recent, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) })
        {
            await db.HashSetAsync(RedisKeys.Generation(conversationId, id), [
                new("conversation", conversationId.ToString()), new("userMessage", Guid.NewGuid().ToString()), new("owner", User),
                new("status", "completed"), new("ended", ended.ToString(CultureInfo.InvariantCulture)), new("usage", "7:3:0")]); // what its instance counted
            await db.StreamAddAsync(RedisKeys.Chunks(conversationId, id), [new("d", "Hello "), new("t", "0")], messageId: "0-1");
            await db.StreamAddAsync(RedisKeys.Chunks(conversationId, id), [new("d", "world"), new("t", "0")], messageId: "0-2");
            await db.KeyExpireAsync(RedisKeys.Generation(conversationId, id), TimeSpan.FromMinutes(5));
            await db.KeyExpireAsync(RedisKeys.Chunks(conversationId, id), TimeSpan.FromMinutes(5));
        }

        await using (var connection = await cluster.Db.OpenConnectionAsync())
        {
            var age = 300;
            foreach (var id in new[] { recent, lost, unsaved })
            {
                var question = Guid.NewGuid();
                await connection.ExecuteAsync(
                    """
                    INSERT INTO messages (id, conversation_id, role, content, status, created_at, completed_at)
                    VALUES (@question, @conversationId, 'user', 'q', 'completed', now() - make_interval(secs => @age), now());
                    INSERT INTO messages (id, conversation_id, role, content, status, reply_to_id, created_at)
                    VALUES (@id, @conversationId, 'assistant', '', 'streaming', @question, now() - make_interval(secs => @age));
                    """,
                    new { question, id, conversationId, age });
                age -= 10;
            }
        }

        var settings = cluster.Settings.ToDictionary();
        settings["Chat:GenerationLease"] = "00:00:01"; // sweeps Postgres every 10 lease/3 ≈ 3.3 s
        await using var sweeper = await HubInstance.StartAsync(settings);

        try
        {
            // Redis knows nothing of it: claimed only after the lost grace (30 s) from the first sweep that saw it so,
            // in case its live instance re-creates its state (after a Redis restart) meanwhile.
            await owner.WaitForFinishedAsync(lost, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"not swept; the sweeping hub said:\n{string.Join('\n', sweeper.Process.Output.Where(l => l.Contains("warn", StringComparison.Ordinal) || l.Contains("fail", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal)).Take(20))}");
        }

        var lostEnd = owner.FinishedOf(lost)!;
        var unsavedEnd = await owner.WaitForFinishedAsync(unsaved, TimeSpan.FromSeconds(30));

        Assert.Equal((MessageStatus.Interrupted, "", OrphanSweeper.OrphanError), (lostEnd.Status, lostEnd.Content, lostEnd.Error));
        Assert.Equal((MessageStatus.Completed, "Hello world", 2L), (unsavedEnd.Status, unsavedEnd.Content, unsavedEnd.LastSequence));
        Assert.Equal(new TokenUsage(7, 3), unsavedEnd.Usage); // what its instance counted (before: an estimate of it)
        await using var check = await cluster.Db.OpenConnectionAsync();
        var statuses = (await check.QueryAsync<(Guid Id, string Status, string Content, long? PromptTokens, long? CompletionTokens)>(
            "SELECT id, status, content, prompt_tokens, completion_tokens FROM messages WHERE conversation_id = @conversationId AND role = 'assistant'", new { conversationId }))
            .ToDictionary(r => r.Id);
        Assert.Equal(("interrupted", ""), (statuses[lost].Status, statuses[lost].Content));
        Assert.Equal(("completed", "Hello world", 7L, 3L), (statuses[unsaved].Status, statuses[unsaved].Content, statuses[unsaved].PromptTokens, statuses[unsaved].CompletionTokens));
        Assert.Equal("streaming", statuses[recent].Status); // examined first in the same sweep, left to its instance
        Assert.Null(owner.FinishedOf(recent));
        await db.KeyDeleteAsync([RedisKeys.Generation(conversationId, recent), RedisKeys.Chunks(conversationId, recent)]); // leave nothing for later sweeps to find
        await check.ExecuteAsync("UPDATE messages SET status = 'interrupted' WHERE id = @recent", new { recent });
    }
}
