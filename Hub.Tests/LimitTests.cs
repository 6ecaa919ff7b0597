using System.Globalization;
using System.Text.RegularExpressions;
using ChatStreaming.Contracts;
using ChatStreaming.Hub.Tests.Infrastructure;
using Dapper;
using Microsoft.AspNetCore.SignalR;
using Xunit;

namespace ChatStreaming.Hub.Tests;

/// <summary>Per-user limits hold across instances (the counters are in Redis), refuse clearly and save nothing.</summary>
[Collection(ClusterCollection.Name)]
public sealed partial class LimitTests(ChatCluster cluster)
{
    private const int PerMinute = 4;
    private const int Concurrent = 2;

    [Fact]
    public async Task AUserMayRunOnlyMaxConcurrentGenerationsPerUserAcrossBothInstances()
    {
        var (x, y) = await StartPairAsync();
        await using var __ = x;
        await using var ___ = y;
        await using var onX = await cluster.ConnectAsync(x.Url, "busy-bee");
        await using var onY = await cluster.ConnectAsync(y.Url, "busy-bee");
        var conversation = await onX.CreateConversationAsync();
        var first = await onX.SendAsync(conversation.Id, "one", clientMessageId: "first");
        var second = await onY.SendAsync(conversation.Id, "two");

        var refused = await Assert.ThrowsAsync<HubException>(() => onX.SendAsync(conversation.Id, "three"));
        var retry = await onY.SendAsync(conversation.Id, "one", clientMessageId: "first"); // a retry is not a new answer
        await using var other = await cluster.ConnectAsync(y.Url, "bystander-limits");
        var othersConversation = await other.CreateConversationAsync();
        await other.SendAsync(othersConversation.Id, "mine runs");

        Assert.Equal(2, RetryAfterSeconds(refused.Message));
        Assert.Contains($"at most {Concurrent} answers may run at once", refused.Message, StringComparison.Ordinal);
        Assert.Equal(first, retry);
        Assert.Equal(4, await MessageCountAsync(conversation.Id)); // the refused send saved nothing

        await onX.InvokeAsync<bool>(ChatHubMethods.CancelGeneration, second.AssistantMessageId);
        await onX.WaitForFinishedAsync(second.AssistantMessageId);
        var third = await onX.SendAsync(conversation.Id, "three, now that one ended");
        await onX.InvokeAsync<bool>(ChatHubMethods.CancelGeneration, first.AssistantMessageId);
        await onX.InvokeAsync<bool>(ChatHubMethods.CancelGeneration, third.AssistantMessageId);
        await onX.WaitForFinishedAsync(third.AssistantMessageId);
    }

    [Fact]
    public async Task AUserMaySendOnlyMessagesPerMinutePerUserAcrossBothInstances()
    {
        var (x, y) = await StartPairAsync();
        await using var __ = x;
        await using var ___ = y;
        await using var onX = await cluster.ConnectAsync(x.Url, "chatterbox");
        await using var onY = await cluster.ConnectAsync(y.Url, "chatterbox");
        var conversation = await onX.CreateConversationAsync();
        for (var i = 0; i < PerMinute; i++)
        {
            var client = i % 2 == 0 ? onX : onY;
            var sent = await client.SendAsync(conversation.Id, $"message {i}");
            await client.InvokeAsync<bool>(ChatHubMethods.CancelGeneration, sent.AssistantMessageId);
            await onX.WaitForFinishedAsync(sent.AssistantMessageId); // ended: only the per-minute limit is left
        }

        var refused = await Assert.ThrowsAsync<HubException>(() => onY.SendAsync(conversation.Id, "one too many"));

        Assert.Contains($"at most {PerMinute} messages per minute", refused.Message, StringComparison.Ordinal);
        Assert.InRange(RetryAfterSeconds(refused.Message), 30, 60); // the oldest send leaves the window within a minute
        Assert.DoesNotContain("   at ", refused.Message, StringComparison.Ordinal);
        Assert.Equal(2 * PerMinute, await MessageCountAsync(conversation.Id));
    }

    /// <summary>Two instances of their own with small limits and a slow model (answers run until cancelled).</summary>
    private async Task<(HubInstance X, HubInstance Y)> StartPairAsync()
    {
        var settings = cluster.Settings.ToDictionary();
        settings["Chat:MessagesPerMinutePerUser"] = PerMinute.ToString(CultureInfo.InvariantCulture);
        settings["Chat:MaxConcurrentGenerationsPerUser"] = Concurrent.ToString(CultureInfo.InvariantCulture);
        settings["Chat:Model:Simulated:TokensPerSecond"] = "10";
        settings["Chat:Model:Simulated:ResponseTokens"] = "1000";
        var x = HubInstance.StartAsync(settings);
        var y = HubInstance.StartAsync(settings);
        return (await x, await y);
    }

    private static int RetryAfterSeconds(string error)
    {
        var match = RetryAfter().Match(error);
        Assert.True(match.Success, $"not a rate-limit error: {error}");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"rate limited, retry after (\d+) s: ")]
    private static partial Regex RetryAfter();

    private async Task<int> MessageCountAsync(Guid conversationId)
    {
        await using var connection = await cluster.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM messages WHERE conversation_id = @conversationId", new { conversationId });
    }
}
