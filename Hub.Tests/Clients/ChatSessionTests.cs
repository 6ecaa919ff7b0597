using ChatStreaming.Client.Core;

namespace ChatStreaming.Hub.Tests.Clients;

/// <summary>The .NET client logic (<see cref="ChatSession"/>) shared by the console client and the Blazor app.</summary>
[Collection(ClientCollection.Name)]
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
}
