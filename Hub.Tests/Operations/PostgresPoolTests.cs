using ChatStreaming.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ChatStreaming.Hub.Tests.Operations;

/// <summary>
/// The store's pooled connections keep its statements prepared on the server (Npgsql's automatic preparation, and no
/// reset that would drop them when a connection goes back to the pool), unless the connection string says otherwise.
/// The Worker's services in the test process, on the cluster's Postgres, with a pool of one connection so every call
/// runs on the session the test then looks into.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PostgresPoolTests(ChatCluster cluster)
{
    [Fact]
    public async Task TheStoresStatementsStayPreparedOnTheServerAcrossPooledUses()
    {
        Assert.True(await PreparedConversationListsAsync(";Maximum Pool Size=1") > 0);
    }

    [Fact]
    public async Task AConnectionStringThatTurnsPreparationOffIsObeyed()
    {
        Assert.Equal(0, await PreparedConversationListsAsync(";Maximum Pool Size=1;Max Auto Prepare=0"));
    }

    [Fact]
    public async Task APooledConnectionIsNotResetEachTimeItIsReused()
    {
        // Resetting (DISCARD ALL, or Npgsql's narrower reset while statements are prepared) is several statements on the
        // server per reuse; the store keeps no session state for it to clear. A setting made on the one connection is
        // still there when the pool hands it out again.
        using var host = WorkerWithPostgres(";Maximum Pool Size=1");
        var dataSource = host.Services.GetRequiredService<NpgsqlDataSource>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using (var first = await dataSource.OpenConnectionAsync(timeout.Token))
        {
            await using var set = new NpgsqlCommand("SET application_name = 'not-reset'", first);
            await set.ExecuteNonQueryAsync(timeout.Token);
        }

        await using var again = await dataSource.OpenConnectionAsync(timeout.Token);
        await using var show = new NpgsqlCommand("SHOW application_name", again);
        Assert.Equal("not-reset", await show.ExecuteScalarAsync(timeout.Token));
    }

    /// <summary>Lists one user's conversations ten times, each on a connection taken from the pool and given back, then
    /// counts the prepared statements of that one session that list conversations.</summary>
    private async Task<long> PreparedConversationListsAsync(string connectionStringSuffix)
    {
        using var host = WorkerWithPostgres(connectionStringSuffix);
        var store = host.Services.GetRequiredService<ChatStore>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var owner = $"pool-{Guid.NewGuid():N}";
        await store.CreateConversationAsync(owner, "prepared", timeout.Token);
        for (var i = 0; i < 10; i++)
        {
            Assert.Single(await store.ListConversationsAsync(owner, 20, timeout.Token));
        }

        await using var connection = await host.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(timeout.Token);
        await using var count = new NpgsqlCommand(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%FROM conversations%' AND statement NOT LIKE '%pg_prepared_statements%'",
            connection);
        return (long)(await count.ExecuteScalarAsync(timeout.Token))!;
    }

    /// <summary>The Worker's services on the cluster's Postgres, its connection string followed by <paramref name="suffix"/>.</summary>
    private IHost WorkerWithPostgres(string suffix) => WorkerHost.Create(cluster, new Dictionary<string, string>
    {
        ["ConnectionStrings:Postgres"] = cluster.Settings["ConnectionStrings:Postgres"] + suffix,
    });
}
