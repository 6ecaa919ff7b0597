using System.Globalization;
using Npgsql;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// A real Postgres cluster in a temporary folder on a free loopback port (initdb + pg_ctl), with pg_stat_statements
/// loaded so tests can count statements. As root it runs as the "postgres" user, since initdb refuses root.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private readonly string directory;
    private readonly string? user = Environment.UserName == "root" ? "postgres" : null;

    private PostgresServer(string directory)
    {
        this.directory = directory;
    }

    public int Port { get; } = LoopbackPorts.Free();

    public string DataDirectory => Path.Combine(directory, "data");

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Include Error Detail=false";

    public static async Task<PostgresServer> StartAsync()
    {
        var root = Directory.CreateTempSubdirectory("chatstreaming-pg-").FullName;
        var server = new PostgresServer(root);
        if (server.user is not null)
        {
            await ChildProcess.RunAsync("chown", ["-R", server.user, root]);
        }

        await ChildProcess.RunAsync(Executable.Find("initdb"), ["-D", server.DataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], server.user);
        await server.StartProcessAsync();
        return server;
    }

    public Task StartProcessAsync() => PgCtlAsync("start", "-w", "-t", "60", "-l", Path.Combine(directory, "postgres.log"), "-o",
        $"-p {Port.ToString(CultureInfo.InvariantCulture)} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off " +
        "-c full_page_writes=off -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=off -c max_connections=200");

    public Task StopProcessAsync() => PgCtlAsync("stop", "-m", "fast", "-w");

    /// <summary>Creates an empty database with pg_stat_statements, for one test cluster.</summary>
    public async Task CreateDatabaseAsync(string name)
    {
        await using (var admin = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        await using var connection = new NpgsqlConnection(ConnectionString(name));
        await connection.OpenAsync();
        await using var extension = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", connection);
        await extension.ExecuteNonQueryAsync();
    }

    private Task PgCtlAsync(params string[] arguments) =>
        ChildProcess.RunAsync(Executable.Find("pg_ctl"), ["-D", DataDirectory, .. arguments], user, TimeSpan.FromSeconds(90));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await PgCtlAsync("stop", "-m", "immediate", "-w");
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }

        Directory.Delete(directory, recursive: true);
    }
}
