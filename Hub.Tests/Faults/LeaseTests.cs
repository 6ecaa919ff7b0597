using ChatStreaming.Worker.Model;
using Npgsql;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>
/// A live answer keeps its lease whatever else its instance is doing, and an answer is claimed by another instance
/// only when its own instance is really gone; when that happens, the answer has one end and nothing comes after it.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class LeaseTests(ChatCluster cluster)
{
    [Fact]
    public async Task ARedisRestartThatLosesEverything30SecondsIntoA45SecondAnswerStillSavesItCompletedWithItsWholeText()
    {
        // A claimer that sweeps Postgres every 10 s for answers "streaming" for 9 s or more: without a live owner's
        // state in Redis it would end this one (as any instance would at its next Postgres sweep).
        var claimerSettings = cluster.Settings.ToDictionary();
        claimerSettings["Chat:GenerationLease"] = "00:00:03";
        await using var claimer = await HubInstance.StartAsync(claimerSettings);
        const string Prompt = "survive a restart that loses everything";
        const int Tokens = 900; // 45 s at 20 tokens a second
        await using var watched = await WatchedAnswer.StartAsync(cluster, "lease-restart", cluster.A, 20, Tokens, Prompt, TimeSpan.FromSeconds(4));
        var thirtySeconds = string.Concat(SimulatedChatClient.Tokens(Prompt, Tokens).Take(620)).Length;
        await Wait.UntilAsync(() => watched.Session.Find(watched.Sent.AssistantMessageId)!.Text.Length >= thirtySeconds, TimeSpan.FromSeconds(60), "the answer did not reach 31 s");

        await cluster.Redis.StopProcessAsync();
        await Task.Delay(TimeSpan.FromSeconds(2)); // Redis is down for a while (the fault, not a wait for an event)
        await cluster.Redis.StartProcessAsync(); // same port, all data lost
        var answer = await watched.Done.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(MessageStatus.Completed, answer.Finished!.Status);
        Assert.Equal(Simulated.Answer(Prompt, Tokens), answer.Finished.Content); // the whole text, not the tail after the restart
        Assert.Equal(answer.Finished.Content, answer.Text.ToString()); // what the client shows
        Assert.Equal(SavedAnswer.Of(answer.Finished), await cluster.SavedAsync(watched.Sent.AssistantMessageId));
    }

    [Fact]
    public async Task AnInstanceWhoseSweepIsStuckOnAnUnreachablePostgresKeepsItsLiveAnswers()
    {
        // The generator reaches Postgres through a proxy that the test cuts; its lease is 3 s, its Postgres sweep every
        // 10 s, so during the 15 s cut that sweep hangs in retries while the answer streams on (it needs no Postgres).
        await using var proxy = new TcpProxy(new Uri($"tcp://127.0.0.1:{cluster.Postgres.Port}"));
        var settings = cluster.Settings.ToDictionary();
        settings["ConnectionStrings:Postgres"] = new NpgsqlConnectionStringBuilder(settings["ConnectionStrings:Postgres"]) { Port = new Uri(proxy.Url).Port }.ConnectionString;
        settings["Chat:GenerationLease"] = "00:00:03";
        const string Prompt = "stream while the database is unreachable";
        await using var watched = await WatchedAnswer.StartAsync(cluster, "lease-stuck-sweep", cluster.A, 20, 500, Prompt, overrides: settings);

        proxy.Cut(TimeSpan.FromSeconds(15));
        var answer = await watched.Done.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(MessageStatus.Completed, answer.Finished!.Status); // not claimed as an orphan by A or B
        Assert.Equal(Simulated.Answer(Prompt, 500), answer.Finished.Content);
        Assert.Equal(answer.Finished.Content, answer.Text.ToString());
        Assert.Equal(SavedAnswer.Of(answer.Finished), await cluster.SavedAsync(watched.Sent.AssistantMessageId));
    }

    [Fact]
    public async Task AnAnswerOutlivingTheReplayTtlStaysCancellable()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:ReplayTtl"] = "00:00:02";
        await using var watched = await WatchedAnswer.StartAsync(cluster, "lease-ttl", cluster.A, 20, 400, "outlive the ttl", overrides: settings);
        var messageId = watched.Sent.AssistantMessageId;
        await Task.Delay(TimeSpan.FromSeconds(5)); // streaming for longer than the TTL (the condition under test, not a wait for an event)

        var cancelled = await watched.Sender.Hub.CancelGeneration(messageId);
        var answer = await watched.Done.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(cancelled);
        Assert.Equal(MessageStatus.Cancelled, answer.Finished!.Status);
        Assert.Equal(SavedAnswer.Of(answer.Finished), await cluster.SavedAsync(messageId));
    }
}
