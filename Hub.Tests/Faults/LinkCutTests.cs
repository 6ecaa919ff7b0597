using ChatStreaming.Client.Core;
using Xunit.Abstractions;

namespace ChatStreaming.Hub.Tests.Faults;

/// <summary>
/// A client's network link cut mid-answer (a TCP proxy between it and its hub drops every connection and refuses new
/// ones): short cuts are bridged by SignalR's stateful reconnect (same connection, buffered messages replayed), long
/// ones by a new connection and the client's resume; either way the text ends exact.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class LinkCutTests(ChatCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task ALinkCutFor10SecondsIsBridgedByStatefulReconnectOnTheSameConnection()
    {
        await using var proxy = new TcpProxy(new Uri(cluster.A));
        await using var watched = await WatchedAnswer.StartAsync(cluster, "cut-10s", proxy.Url, tokensPerSecond: 20, tokens: 500, "keep talking");
        var (session, done, sent) = (watched.Session, watched.Done, watched.Sent);
        var connectionId = session.Connection.ConnectionId;
        var states = new System.Collections.Concurrent.ConcurrentQueue<string>();
        session.StateChanged += states.Enqueue;

        var chunksAtCut = session.Find(sent.AssistantMessageId)!.LastSequence;
        proxy.Cut(TimeSpan.FromSeconds(10));
        var cutEnds = DateTimeOffset.UtcNow.AddSeconds(10);
        await Wait.UntilAsync(() => session.Find(sent.AssistantMessageId)!.LastSequence > chunksAtCut + 5 && DateTimeOffset.UtcNow > cutEnds, TimeSpan.FromSeconds(40), "chunks did not flow again after the cut");
        output.WriteLine($"measured: chunks flowing again {(DateTimeOffset.UtcNow - cutEnds).TotalSeconds:0.0} s after a 10 s cut ended (same connection)");
        var answer = await done.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal((sent.AssistantMessageId, MessageStatus.Completed), (answer.MessageId, answer.Finished!.Status));
        Assert.Equal(answer.Finished.Content, answer.Text.ToString());
        Assert.Equal(connectionId, session.Connection.ConnectionId); // the same connection: no full reconnect
        Assert.DoesNotContain("reconnecting", states);
    }

    [Fact]
    public async Task ALinkCutFor40SecondsEndsInANewConnectionThatResumesWithNothingLostOrDoubled()
    {
        await using var proxy = new TcpProxy(new Uri(cluster.A));
        await using var watched = await WatchedAnswer.StartAsync(cluster, "cut-40s", proxy.Url, tokensPerSecond: 10, tokens: 550, "keep talking");
        var (session, done, sent) = (watched.Session, watched.Done, watched.Sent);
        var connectionId = session.Connection.ConnectionId;
        var states = new System.Collections.Concurrent.ConcurrentQueue<string>();
        session.StateChanged += states.Enqueue;

        proxy.Cut(TimeSpan.FromSeconds(40));
        var cutEnds = DateTimeOffset.UtcNow.AddSeconds(40);
        await Wait.UntilAsync(() => states.Contains("reconnected"), TimeSpan.FromSeconds(70), "no new connection after the cut");
        output.WriteLine($"measured: reconnected on a new connection {(DateTimeOffset.UtcNow - cutEnds).TotalSeconds:0.0} s after a 40 s cut ended");
        var answer = await done.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal((sent.AssistantMessageId, MessageStatus.Completed), (answer.MessageId, answer.Finished!.Status));
        Assert.Equal(answer.Finished.Content, answer.Text.ToString()); // nothing lost, nothing doubled
        Assert.NotEqual(connectionId, session.Connection.ConnectionId); // a new connection...
        Assert.Contains("reconnected", states); // ...after which the session resumed the conversation
        Assert.True(answer.Finished.LastSequence > 400, "the answer should still have been streaming after the cut");
    }
}
