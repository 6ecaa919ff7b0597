using ChatStreaming.Client.Core;
using ChatStreaming.Contracts;
using ChatStreaming.Hub.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace ChatStreaming.Hub.Tests;

/// <summary>
/// A client's network link cut mid-answer (a TCP proxy between it and its hub drops every connection and refuses new
/// ones): short cuts are bridged by SignalR's stateful reconnect (same connection, buffered messages replayed), long
/// ones by a new connection and the client's resume; either way the text ends exact.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class LinkCutTests(ChatCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task ALinkCutFor10SecondsIsBridgedByStatefulReconnectOnTheSameConnection()
    {
        var (session, proxy, generator, done, sent) = await StreamThroughAProxyAsync("cut-10s", tokensPerSecond: 20, tokens: 500);
        await using var _ = session;
        await using var __ = proxy;
        await using var ___ = generator;
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
        var (session, proxy, generator, done, sent) = await StreamThroughAProxyAsync("cut-40s", tokensPerSecond: 10, tokens: 550);
        await using var _ = session;
        await using var __ = proxy;
        await using var ___ = generator;
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

    /// <summary>A session (the shipped .NET client logic) on instance A through a proxy, watching an answer generated elsewhere.</summary>
    private async Task<(ChatSession Session, TcpProxy Proxy, HubInstance Generator, Task<AnswerState> Done, SendMessageResult Sent)> StreamThroughAProxyAsync(
        string user, int tokensPerSecond, int tokens)
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:Model:Simulated:TokensPerSecond"] = tokensPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Chat:Model:Simulated:ResponseTokens"] = tokens.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var generator = await HubInstance.StartAsync(settings);
        var proxy = new TcpProxy(new Uri(cluster.A));
        var token = await cluster.TokenAsync(user);
        var session = new ChatSession(new Uri(proxy.Url), () => Task.FromResult<string?>(token));
        await session.StartAsync(CancellationToken.None);
        var conversation = await session.CreateConversationAsync("link cut", CancellationToken.None);
        var done = new TaskCompletionSource<AnswerState>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.Finished += answer => done.TrySetResult(answer);
        var chunks = 0;
        session.ChunkReceived += _ => Interlocked.Increment(ref chunks);
        await using var sender = await ChatTestClient.ConnectAsync(generator.Url, token);
        var sent = await sender.SendAsync(conversation.Id, "keep talking");
        await Wait.UntilAsync(() => Volatile.Read(ref chunks) >= 5, Wait.Default, "the answer did not start");
        return (session, proxy, generator, done.Task, sent);
    }
}
