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
            ["postgres"] = PostgresCpuSeconds(),
            ["redis"] = redisCpu,
            ["hubs"] = hubProcesses.Sum(CpuSeconds),
            ["client"] = CpuSeconds(Environment.ProcessId), // this process: the load clients (the probing is negligible)
        };
    }

    /// <summary>
    /// Waits, a minute at most, until <paramref name="servers"/>, Redis (and the Redis Cluster's nodes, when the run has
    /// one) and Postgres use less than a fifth of a core together (read once a second): a pipeline that fell behind (the
    /// baselines past their knee) goes on producing after its run ends, and the next pipeline must not start on its
    /// leftovers. Returns how long it waited.
    /// </summary>
    public async Task<TimeSpan> SettleAsync(IReadOnlyList<int> servers, CancellationToken cancellationToken)
    {
        async Task<double> BusySeconds()
        {
            var cpu = await CpuSecondsAsync(servers, onCluster: false);
            var clusterNodes = Cluster is null ? 0 : (await Cluster.ReadAsync()).Sum(n => n.CpuSeconds);
            return cpu["hubs"] + cpu["postgres"] + cpu["redis"] + clusterNodes;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (before, at) = (await BusySeconds(), clock.Elapsed);
        while (clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            var (now, nowAt) = (await BusySeconds(), clock.Elapsed);
            if ((now - before) / (nowAt - at).TotalSeconds < 0.2)
            {
                break;
            }

            (before, at) = (now, nowAt);
        }

        if (clock.Elapsed > TimeSpan.FromSeconds(2))
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  waited {clock.Elapsed.TotalSeconds:0} s for the machine to settle"));
        }

        return clock.Elapsed;
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

    /// <summary>
    /// The CPU Postgres used since the first reading: the postmaster and its children (the cluster in the data
    /// directory), each backend counted by what it used between readings (<see cref="ProcessCpuTally"/>; the runs read
    /// every 250 ms). Neither a live-only sum (a backend that exits takes its whole time out: negative figures) nor the postmaster's
    /// reaped children (a backend of an idle pipeline's pool that exits during another's run would bring it all its
    /// past time) will do with every pipeline's pools open. Its children are listed by the kernel
    /// (<c>/proc/PID/task/TID/children</c>), not by reading every process's status four times a second, which with
    /// hundreds of idle backends cost the load client's process a visible share of its CPU. Without a data directory,
    /// every "postgres" process's time now.
    /// </summary>
    private double PostgresCpuSeconds()
    {
        var pidFile = postgresDataDirectory is null ? null : Path.Combine(postgresDataDirectory, "postmaster.pid");
        if (pidFile is null || !File.Exists(pidFile))
        {
            return PostgresProcesses().Sum(CpuSeconds);
        }

        var postmaster = int.Parse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture);
        var now = ChildrenOf(postmaster)
            .Append(postmaster)
            .Distinct()
            .ToDictionary(pid => pid, CpuSeconds);
        return postgresTally.Read(now);
    }

    /// <summary>A process's children, as the kernel lists them (every thread's <c>children</c> file).</summary>
    public static IEnumerable<int> ChildrenOf(int pid) => Directory.EnumerateDirectories($"/proc/{pid}/task")
        .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Select(child => int.Parse(child, CultureInfo.InvariantCulture));

    private readonly ProcessCpuTally postgresTally = new();

    /// <summary>Every process named "postgres".</summary>
    private static IEnumerable<int> PostgresProcesses()
    {
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

            if (Field(status, "Name:") == "postgres")
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

    /// <summary>A process's user and system CPU time.</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // after "pid (comm) ": utime and stime are fields 14 and 15 of proc(5)
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
