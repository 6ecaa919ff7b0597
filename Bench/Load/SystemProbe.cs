using System.Globalization;
using Npgsql;
using StackExchange.Redis;

namespace ChatStreaming.Bench.Load;

/// <summary>
/// Reads the machine: CPU time of processes (/proc), Redis memory (INFO), Postgres statements (pg_stat_statements).
/// For a pipeline on the Redis Cluster (<paramref name="cluster"/>), "redis" is every node of the cluster.
/// </summary>
internal sealed class SystemProbe(IConnectionMultiplexer redis, RedisNodesProbe? cluster, NpgsqlDataSource postgres, string? postgresDataDirectory)
{
    /// <summary>The cluster's nodes, when the run has a Redis Cluster.</summary>
    public RedisNodesProbe? Cluster => cluster;

    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>CPU seconds used so far by each group of processes.</summary>
    public async Task<Dictionary<string, double>> CpuSecondsAsync(IReadOnlyList<int> hubProcesses, bool onCluster)
    {
        var redisCpu = onCluster
            ? (await Cluster!.ReadAsync()).Sum(n => n.CpuSeconds)
            : CpuSeconds(int.Parse((string)(await redis.GetServers()[0].InfoAsync("server")).SelectMany(g => g).First(p => p.Key == "process_id").Value, CultureInfo.InvariantCulture));
        return new Dictionary<string, double>
        {
            ["postgres"] = PostgresProcesses().Sum(CpuSeconds),
            ["redis"] = redisCpu,
            ["hubs"] = hubProcesses.Sum(CpuSeconds),
            ["client"] = CpuSeconds(Environment.ProcessId), // this process: the load clients (the probing is negligible)
        };
    }

    public async Task<long> RedisUsedMemoryAsync(bool onCluster)
    {
        if (onCluster)
        {
            return await Cluster!.UsedMemoryAsync();
        }

        var info = await redis.GetServers()[0].InfoAsync("memory");
        return long.Parse(info.SelectMany(g => g).First(p => p.Key == "used_memory").Value, CultureInfo.InvariantCulture);
    }

    public async Task ResetStatementsAsync()
    {
        await using var command = postgres.CreateCommand("SELECT pg_stat_statements_reset()");
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Statements executed in a pipeline's database since the last reset; 0 for a pipeline without one.</summary>
    public async Task<long> StatementsAsync(string? database)
    {
        if (database is null)
        {
            return 0;
        }

        await using var command = postgres.CreateCommand("""
            SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) AND query NOT LIKE '%pg_stat_statements%'
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = database });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The postmaster and its children (the cluster in the data directory), else every "postgres" process.</summary>
    private IEnumerable<int> PostgresProcesses()
    {
        var pidFile = postgresDataDirectory is null ? null : Path.Combine(postgresDataDirectory, "postmaster.pid");
        int? postmaster = pidFile is not null && File.Exists(pidFile) ? int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture) : null;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            string status;
            try
            {
                status = File.ReadAllText(Path.Combine(dir, "status"));
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            var name = Field(status, "Name:");
            var parent = int.Parse(Field(status, "PPid:"), CultureInfo.InvariantCulture);
            if (postmaster is { } root ? pid == root || parent == root : name == "postgres")
            {
                yield return pid;
            }
        }
    }

    private static string Field(string status, string key)
    {
        var line = status.Split('\n').First(l => l.StartsWith(key, StringComparison.Ordinal));
        return line[key.Length..].Trim();
    }

    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (comm) "
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
