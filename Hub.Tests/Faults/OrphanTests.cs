using ChatStreaming.Worker.Limits;
using ChatStreaming.Worker.Model;
using Xunit.Abstractions;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>
/// An answer whose instance is gone (killed, or paused past its lease) and that was started under
/// <c>Chat:Failover = Interrupt</c> is claimed by another instance through the lease index and ended once, with what it
/// streamed; nothing comes after that end. (Under Continue, the default, it is carried on: TakeoverTests.) Runs on a single Redis and on a
/// Redis Cluster (<see cref="OrphanTestsOnRedisCluster"/>: the lease index is sharded, the sweeper walks every shard).
/// </summary>
[Collection(FaultCollection.Name)]
public class OrphanTests(ChatCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task AnAnswerOfAKilledInstanceEndsInterruptedWithItsStreamedTextWithin30Seconds()
    {
        await using var doomed = await HubInstance.StartAsync(new Dictionary<string, string>(cluster.Settings)
        {
            ["Chat:Model:Simulated:TokensPerSecond"] = "20",
            ["Chat:Model:Simulated:ResponseTokens"] = "400",
            ["Chat:Failover"] = "Interrupt", // today's end for an orphan; TakeoverTests carry it on
        });
        var watcher = await cluster.ConnectAsync(cluster.A, "orphan");
        var sender = await cluster.ConnectAsync(doomed.Url, "orphan");
        var conversation = await watcher.CreateConversationAsync();
        await using var _ = watcher;
        await using var __ = sender;
        var sent = await sender.SendAsync(conversation.Id, "die midway");
        await watcher.WaitForChunksAsync(sent.AssistantMessageId, 5);

        doomed.Process.Signal(Signals.Kill);
        var killedAt = DateTimeOffset.UtcNow;
        var finished = await watcher.WaitForFinishedAsync(sent.AssistantMessageId, TimeSpan.FromSeconds(30));

        var recovered = DateTimeOffset.UtcNow - killedAt;
        output.WriteLine($"measured: orphan ended interrupted {recovered.TotalSeconds:0.0} s after SIGKILL");
        Assert.Equal(MessageStatus.Interrupted, finished.Status);
        Assert.InRange(recovered, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        var seen = string.Concat(watcher.ChunksOf(sent.AssistantMessageId).Select(c => c.Delta));
        Assert.StartsWith(seen, finished.Content, StringComparison.Ordinal); // everything streamed, nothing invented
        Assert.True(finished.LastSequence >= 5 && finished.LastSequence < 400);
        Assert.Equal(SavedAnswer.Of(finished), await cluster.SavedAsync(sent.AssistantMessageId));
        // Charged an estimate of what it streamed and of its request, as an interrupted answer is (before: nothing), and
        // saved with the model that answered, as its instance would have (before: none, "unknown" in GetUsage).
        Assert.Equal(("default", "default"), (finished.Model, Assert.Single(await watcher.Hub.GetUsage(null)).Model));
        Assert.True(finished.Usage is { Estimated: true }, $"usage {finished.Usage}");
        Assert.Equal(UsageCharge.Estimate(ModelOptions.DefaultSystemPrompt.Length + "die midway".Length), finished.Usage.PromptTokens); // before: the question only
        Assert.True(finished.Usage.CompletionTokens >= UsageCharge.Estimate(finished.Content.Length), $"{finished.Usage.CompletionTokens} completion tokens");
    }

    [Fact]
    public async Task AnInstancePausedLongerThanItsLeaseGivesItsAnswerOneEndAndNothingAfterIt()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:GenerationLease"] = "00:00:03";
        settings["Chat:Failover"] = "Interrupt";
        await using var watched = await WatchedAnswer.StartAsync(cluster, "lease-paused", cluster.A, 20, 600, "pause me past my lease", overrides: settings);
        await using var raw = await ChatTestClient.ConnectAsync(cluster.B, watched.Token);
        await raw.Hub.JoinConversation(watched.Session.ConversationId!.Value);
        var messageId = watched.Sent.AssistantMessageId;
        await raw.WaitForChunksAsync(messageId, 3);

        watched.Generator.Process.Signal(Signals.Stop);
        GenerationFinished end;
        try
        {
            end = await raw.WaitForFinishedAsync(messageId, TimeSpan.FromSeconds(30)); // another instance ended it
        }
        finally
        {
            watched.Generator.Process.Signal(Signals.Continue);
        }

        // Resumed, the paused instance finds its answer ended: it stops generating, saves nothing, and repeats the end
        // that was saved (a second, identical GenerationFinished).
        await Wait.UntilAsync(() => raw.AllFinishedOf(messageId).Count >= 2, TimeSpan.FromSeconds(30), "the resumed instance did not end its copy of the answer");
        var answer = await watched.Done.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"ended {end.Status} after {end.LastSequence} chunks");

        Assert.Equal(MessageStatus.Interrupted, end.Status);
        Assert.All(raw.AllFinishedOf(messageId), again => Assert.Equal(end, again));
        Assert.All(raw.ChunksOf(messageId), c => Assert.True(c.Sequence <= end.LastSequence, $"chunk {c.Sequence} came after the end at {end.LastSequence}"));
        Assert.Equal(end.Content, answer.Text.ToString());
        Assert.Equal(SavedAnswer.Of(end), await cluster.SavedAsync(messageId));
        Assert.Contains(watched.Generator.Process.Output, l => l.Contains("was ended by another instance", StringComparison.Ordinal));
    }
}

/// <summary><see cref="OrphanTests"/> on a Redis Cluster.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class OrphanTestsOnRedisCluster(ChatOnRedisCluster cluster, ITestOutputHelper output) : OrphanTests(cluster, output);
