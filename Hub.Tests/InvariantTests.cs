using ChatStreaming.Contracts;
using ChatStreaming.Hub.Tests.Infrastructure;
using Dapper;
using Xunit;

namespace ChatStreaming.Hub.Tests;

[Collection(ClusterCollection.Name)]
public sealed class InvariantTests(ChatCluster cluster)
{
    [Fact]
    public async Task EveryRedisKeyTheAppWritesExpires()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "ttl");
        var conversation = await client.CreateConversationAsync();
        var sent = await client.SendAsync(conversation.Id, "keys");
        await client.WaitForChunksAsync(sent.AssistantMessageId, 3);

        var server = cluster.RedisClient.GetServers().Single();
        var midStream = await KeysAndTtlsAsync(server);
        await client.WaitForFinishedAsync(sent.AssistantMessageId);
        var finished = await KeysAndTtlsAsync(server);

        Assert.Contains(midStream, k => k.Key.Contains($"{sent.AssistantMessageId:N}", StringComparison.Ordinal));
        Assert.All(midStream.Concat(finished), k => Assert.True(k.Ttl > TimeSpan.Zero && k.Ttl <= TimeSpan.FromHours(1), $"{k.Key} has TTL {k.Ttl}"));
    }

    [Fact]
    public async Task PostgresSeesAConstantNumberOfStatementsPerAnswerNeverOnePerChunk()
    {
        await using var client = await cluster.ConnectAsync(cluster.A, "statements");
        var conversation = await client.CreateConversationAsync();
        var before = await StatementsAsync();

        var sent = await client.SendAsync(conversation.Id, "count my statements");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);
        var after = await StatementsAsync();

        Assert.Equal(ChatCluster.ResponseTokens, finished.LastSequence);
        // the user message with its placeholder answer; the earlier messages for the model's context; the final answer
        Assert.Equal(3, after - before);
    }

    private async Task<List<(string Key, TimeSpan? Ttl)>> KeysAndTtlsAsync(StackExchange.Redis.IServer server)
    {
        var db = cluster.RedisClient.GetDatabase();
        var result = new List<(string, TimeSpan?)>();
        await foreach (var key in server.KeysAsync(pattern: "*"))
        {
            result.Add((key.ToString(), await db.KeyTimeToLiveAsync(key)));
        }

        return result;
    }

    /// <summary>Statements executed in the app's database (pg_stat_statements; its own query excluded, utility statements not tracked).</summary>
    private async Task<long> StatementsAsync()
    {
        await using var connection = await cluster.Db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("""
            SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat_statements%'
              AND query NOT LIKE '%status = ''streaming'' AND created_at <%' -- the orphan sweep, per instance, not per answer
            """);
    }
}
