namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>Hub instances as real processes, killed or stopped mid-answer: every answer still ends saved and truthful.</summary>
[Collection(OutageCollection.Name)]
public sealed class FaultTests(ChatCluster cluster)
{

    [Fact]
    public async Task SigtermLetsTheRunningAnswerFinishThenTheInstanceExitsZero()
    {
        await using var stopping = await HubInstance.StartAsync(SlowModel(tokens: 40));
        var (watcher, sender, conversation) = await ConnectAsync("graceful", stopping);
        await using var _ = watcher;
        await using var __ = sender;
        var sent = await sender.SendAsync(conversation.Id, "finish me");
        await watcher.WaitForChunksAsync(sent.AssistantMessageId, 3);

        stopping.Process.Signal(Signals.Terminate);
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(15));
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await stopping.Process.WaitForExitAsync(exit.Token);

        // the whole answer, however many chunks the relay made of its 40 tokens (it coalesces on a busy machine)
        Assert.Equal((MessageStatus.Completed, Simulated.Answer("finish me", 40)), (finished.Status, finished.Content));
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(sent.AssistantMessageId), finished);
        Assert.Equal(0, stopping.Process.ExitCode);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId));
    }

    [Fact]
    public async Task SigtermEndsAnAnswerLongerThanTheGraceInterruptedAndSaved()
    {
        var settings = SlowModel(tokens: 400);
        settings["Chat:ShutdownGrace"] = "00:00:01";
        await using var stopping = await HubInstance.StartAsync(settings);
        var (watcher, sender, conversation) = await ConnectAsync("impatient", stopping);
        await using var _ = watcher;
        await using var __ = sender;
        var sent = await sender.SendAsync(conversation.Id, "too long to wait for");
        await watcher.WaitForChunksAsync(sent.AssistantMessageId, 3);

        stopping.Process.Signal(Signals.Terminate);
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(15));
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await stopping.Process.WaitForExitAsync(exit.Token);

        Assert.Equal(MessageStatus.Interrupted, finished.Status);
        Assert.Equal("the server shut down during the answer", finished.Error);
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(sent.AssistantMessageId), finished);
        Assert.Equal(0, stopping.Process.ExitCode);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId));
    }

    [Fact]
    public async Task SigtermClosesTheDrainingInstancesOwnConnectionsAtOnceWhileItsAnswerFinishesForClientsElsewhere()
    {
        // What docs/operations.md promises: SignalR closes the connections of a stopping instance when SIGTERM arrives
        // (ApplicationStopping); its clients reconnect through the load balancer to another instance and resume there,
        // while the answer keeps generating on the draining instance and reaches them on their new instance.
        await using var stopping = await HubInstance.StartAsync(SlowModel(tokens: 40));
        var (watcher, client, conversation) = await ConnectAsync("drained-client", stopping);
        await using var _ = watcher;
        await using var __ = client;
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
        var sent = await client.SendAsync(conversation.Id, "finish me elsewhere");
        await watcher.WaitForChunksAsync(sent.AssistantMessageId, 3);

        stopping.Process.Signal(Signals.Terminate);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(5)); // at once, not after Chat:DrainDelay (5 s)
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(15));
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await stopping.Process.WaitForExitAsync(exit.Token);

        Assert.Null(client.FinishedOf(sent.AssistantMessageId)); // the draining instance's own client did not get the end
        Assert.Equal((MessageStatus.Completed, Simulated.Answer("finish me elsewhere", 40)), (finished.Status, finished.Content));
        StreamAssert.ExactlyOnceInOrder(watcher.ChunksOf(sent.AssistantMessageId), finished);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId));
        Assert.Equal(0, stopping.Process.ExitCode);
    }

    /// <summary>A watcher on instance A, a sender (same user) on <paramref name="hub"/>, which generates the answer.</summary>
    private async Task<(ChatTestClient Watcher, ChatTestClient Sender, Conversation Conversation)> ConnectAsync(string user, HubInstance hub)
    {
        var watcher = await cluster.ConnectAsync(cluster.A, user);
        var sender = await cluster.ConnectAsync(hub.Url, user);
        var conversation = await watcher.CreateConversationAsync();
        return (watcher, sender, conversation);
    }

    private Dictionary<string, string> SlowModel(int tokens)
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:Model:Simulated:TokensPerSecond"] = "20";
        settings["Chat:Model:Simulated:ResponseTokens"] = tokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return settings;
    }
}
