using Dapper;
using Npgsql;

namespace ChatStreaming.Hub.Tests.Streaming;

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
        // A day's token counter lives two days (RedisKeys.UserTokens); every other key at most the replay TTL (1 h).
        Assert.All(midStream.Concat(finished), k => Assert.True(
            k.Ttl > TimeSpan.Zero && k.Ttl <= (k.Key.Contains(":tokens:", StringComparison.Ordinal) ? TimeSpan.FromDays(2) : TimeSpan.FromHours(1)), $"{k.Key} has TTL {k.Ttl}"));
    }

    [Fact]
    public async Task PostgresSeesAConstantNumberOfStatementsPerAnswerNeverOnePerChunk()
    {
        // A hub of its own, connecting as a role of its own: only its statements are counted, not those of the other
        // instances (which may be saving an orphan an earlier test left). Its sweep (every lease/3) never runs meanwhile.
        await using (var admin = await cluster.Db.OpenConnectionAsync())
        {
            await admin.ExecuteAsync($"DO $$ BEGIN CREATE ROLE {CountedRole} LOGIN SUPERUSER; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        }

        var settings = cluster.Settings.ToDictionary();
        settings["ConnectionStrings:Postgres"] = new NpgsqlConnectionStringBuilder(settings["ConnectionStrings:Postgres"]) { Username = CountedRole }.ConnectionString;
        settings["Chat:GenerationLease"] = "00:10:00";
        await using var hub = await HubInstance.StartAsync(settings);
        await using var client = await cluster.ConnectAsync(hub.Url, "statements");
        var conversation = await client.CreateConversationAsync();
        var before = await StatementsAsync();

        var sent = await client.SendAsync(conversation.Id, "count my statements");
        var finished = await client.WaitForFinishedAsync(sent.AssistantMessageId);
        var after = await StatementsAsync();

        Assert.Equal((MessageStatus.Completed, Simulated.Answer("count my statements")), (finished.Status, finished.Content));
        // the user message with its placeholder answer (the conversation's room, Chat:MaxMessagesPerConversation, checked
        // in the same statement); the earlier messages for the model's context; the final answer
        var counted = after.Sum(s => s.Calls) - before.Sum(s => s.Calls);
        var ran = after.Select(a => (a.Query, Calls: a.Calls - before.Where(b => b.Query == a.Query).Sum(b => b.Calls))).Where(q => q.Calls > 0);
        Assert.True(counted == 3, $"{counted} statements:\n{string.Join('\n', ran.Select(q => $"{q.Calls} × {q.Query}"))}");
    }

    private const string CountedRole = "counted_hub";

    private async Task<List<(string Key, TimeSpan? Ttl)>> KeysAndTtlsAsync(StackExchange.Redis.IServer server)
    {
        var db = cluster.RedisClient.GetDatabase();
        var result = new List<(string, TimeSpan?)>();
        await foreach (var key in server.KeysAsync(pattern: "*"))
        {
            var ttl = await db.KeyTimeToLiveAsync(key);
            if (ttl is null && !await db.KeyExistsAsync(key))
            {
                continue; // gone between the scan and the read (expired, or a stopping hub's heartbeat): it had a TTL or was deleted
            }

            result.Add((key.ToString(), ttl));
        }

        return result;
    }

    /// <summary>Statements the counted hub executed (pg_stat_statements; utility statements not tracked), by query.</summary>
    private async Task<List<(string Query, long Calls)>> StatementsAsync()
    {
        await using var connection = await cluster.Db.OpenConnectionAsync();
        return [.. await connection.QueryAsync<(string, long)>($"""
            SELECT query, calls FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND userid = (SELECT oid FROM pg_roles WHERE rolname = '{CountedRole}')
            """)];
    }
}
