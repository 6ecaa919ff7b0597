using System.Globalization;
using StackExchange.Redis;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster on loopback, owned by the tests: six <c>redis-server --cluster-enabled yes</c> processes (three
/// masters, three replicas) joined by <c>redis-cli --cluster create</c>, in memory only. Nodes can be killed, paused
/// and failed over.
/// </summary>
internal sealed class RedisClusterServer : IAsyncDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("chatstreaming-redis-cluster-").FullName;
    private readonly Dictionary<int, ChildProcess> nodes = [];
    private readonly HashSet<int> killed = [];

    private RedisClusterServer(int[] ports) => Ports = ports;

    public IReadOnlyList<int> Ports { get; }

    /// <summary>Every node, as <c>ConnectionStrings:Redis</c> takes them (StackExchange.Redis discovers the rest).</summary>
    public string ConnectionString => string.Join(',', Ports.Select(p => $"127.0.0.1:{p}"));

    public static async Task<RedisClusterServer> StartAsync()
    {
        // Twice at most: a port picked free can be taken by another collection's server before its node binds it
        // (seen once on a busy machine: "Could not connect to Redis at …: Connection refused" from the create).
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync();
            }
            catch (Exception) when (attempt < 2)
            {
            }
        }
    }

    private static async Task<RedisClusterServer> StartOnceAsync()
    {
        var cluster = new RedisClusterServer([.. Enumerable.Range(0, 6).Select(_ => LoopbackPorts.Free())]);
        try
        {
            foreach (var port in cluster.Ports)
            {
                cluster.StartNode(port);
            }

            foreach (var port in cluster.Ports)
            {
                await Wait.UntilAsync(() => Task.FromResult(Ping(port)), TimeSpan.FromSeconds(20), $"redis-server on {port} did not start");
            }

            await ChildProcess.RunToSuccessAsync(Executable.Find("redis-cli"),
                ["--cluster", "create", .. cluster.Ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", "1", "--cluster-yes"], timeout: TimeSpan.FromMinutes(1));
            await Wait.UntilAsync(async () => (await Cli(cluster.Ports[0], "cluster", "info")).Contains("cluster_state:ok", StringComparison.Ordinal),
                TimeSpan.FromSeconds(30), "the Redis cluster did not become ready");
            // Three replicas, each synchronized with its master: right after the create a node may not show its role yet,
            // and a replica still in its first sync refuses to take over ("disconnected from master for longer than allowed").
            await Wait.UntilAsync(
                async () =>
                {
                    var replicas = (await cluster.NodesAsync()).Where(n => !n.IsMaster).ToArray();
                    foreach (var replica in replicas)
                    {
                        if (!(await Cli(replica.Port, "info", "replication")).Contains("master_link_status:up", StringComparison.Ordinal))
                        {
                            return false;
                        }
                    }

                    return replicas.Length == 3;
                },
                TimeSpan.FromSeconds(60),
                "the replicas did not synchronize with their masters");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private void StartNode(int port)
    {
        var data = Directory.CreateDirectory(Path.Combine(directory, port.ToString(CultureInfo.InvariantCulture))).FullName;
        nodes[port] = ChildProcess.Start(Executable.Find("redis-server"), [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", data, "--protected-mode", "no", "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(data, "nodes.conf"),
            "--cluster-node-timeout", "2000"]);
    }

    /// <summary>The master that owns <paramref name="key"/>'s slot (its port).</summary>
    public async Task<int> MasterOfAsync(RedisKey key) =>
        await OwnerOfAsync(key) ?? throw new InvalidOperationException($"no master owns the slot of {key}");

    /// <summary>The master that owns <paramref name="key"/>'s slot; null while none does (during a failover).</summary>
    private async Task<int?> OwnerOfAsync(RedisKey key)
    {
        var live = Ports.First(p => !killed.Contains(p));
        var slot = long.Parse(await Cli(live, "cluster", "keyslot", key.ToString()), CultureInfo.InvariantCulture);
        foreach (var line in (await Cli(live, "cluster", "nodes")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            if (!fields[2].Contains("master", StringComparison.Ordinal) || fields[2].Contains("fail", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var range in fields.Skip(8))
            {
                var bounds = range.Split('-');
                var (from, to) = (long.Parse(bounds[0], CultureInfo.InvariantCulture), long.Parse(bounds[^1], CultureInfo.InvariantCulture));
                if (slot >= from && slot <= to)
                {
                    return int.Parse(fields[1].Split(':', '@')[1], CultureInfo.InvariantCulture);
                }
            }
        }

        return null;
    }

    /// <summary>The cluster as <c>CLUSTER NODES</c> shows it from a live node: (port, id, is master, slot ranges) of each node not failed.</summary>
    public async Task<IReadOnlyList<(int Port, string Id, bool IsMaster, string[] Slots)>> NodesAsync()
    {
        foreach (var asked in Ports.Where(p => !killed.Contains(p)))
        {
            var nodes = new List<(int, string, bool, string[])>();
            foreach (var line in (await Cli(asked, "cluster", "nodes")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var fields = line.Split(' ');
                if (fields.Length < 8 || fields[2].Contains("fail", StringComparison.Ordinal))
                {
                    continue;
                }

                nodes.Add((int.Parse(fields[1].Split(':', '@')[1], CultureInfo.InvariantCulture), fields[0], fields[2].Contains("master", StringComparison.Ordinal), fields[8..]));
            }

            return nodes;
        }

        throw new InvalidOperationException("no node of the cluster is alive");
    }

    /// <summary>
    /// A manual failover of every master: <c>CLUSTER FAILOVER</c> on each replica (each waits for its master to hand
    /// over its last writes, then takes its slots). Returns once every former replica is a master and the cluster is ok.
    /// </summary>
    public async Task FailOverEveryMasterAsync()
    {
        var replicas = (await NodesAsync()).Where(n => !n.IsMaster).Select(n => n.Port).ToArray();
        foreach (var replica in replicas)
        {
            Assert.Equal("OK", await Cli(replica, "cluster", "failover"));
        }

        await Wait.UntilAsync(async () => (await NodesAsync()).Where(n => replicas.Contains(n.Port)).All(n => n.IsMaster) && await IsOkAsync(),
            TimeSpan.FromSeconds(60), "the replicas did not all take over their masters");
    }

    /// <summary>Kills the master of <paramref name="key"/>'s slot with SIGKILL; returns once its replica serves the slot.</summary>
    public async Task<int> KillMasterOfAsync(RedisKey key)
    {
        var master = await MasterOfAsync(key);
        killed.Add(master);
        Signal(master, Signals.Kill);
        try
        {
            await Wait.UntilAsync(async () => await OwnerOfAsync(key) is { } owner && owner != master && await IsOkAsync(),
                TimeSpan.FromSeconds(60), $"no replica took over from the master on {master}");
        }
        catch (TimeoutException ex)
        {
            var live = Ports.First(p => !killed.Contains(p));
            throw new TimeoutException($"{ex.Message}; the cluster as {live} sees it:\n{await Cli(live, "cluster", "nodes")}\n{await Cli(live, "cluster", "info")}", ex);
        }

        return master;
    }

    /// <summary>
    /// Moves <paramref name="key"/>'s slot, with its keys, to another master while it is in use: what
    /// <c>redis-cli --cluster reshard</c> does for each slot it moves (<c>SETSLOT IMPORTING/MIGRATING</c>, <c>MIGRATE</c>
    /// of the slot's keys in batches, <c>SETSLOT NODE</c> everywhere), for exactly that slot. Returns the new master's port.
    /// </summary>
    public async Task<int> MigrateSlotOfAsync(RedisKey key)
    {
        var slot = (await Cli(Ports.First(p => !killed.Contains(p)), "cluster", "keyslot", key.ToString())).Trim();
        var from = await MasterOfAsync(key);
        var nodes = await NodesAsync();
        var source = nodes.Single(n => n.Port == from);
        var target = nodes.First(n => n.IsMaster && n.Port != from);
        Assert.Equal("OK", await Cli(target.Port, "cluster", "setslot", slot, "importing", source.Id));
        Assert.Equal("OK", await Cli(source.Port, "cluster", "setslot", slot, "migrating", target.Id));
        while (true)
        {
            var keys = (await Cli(source.Port, "cluster", "getkeysinslot", slot, "10")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (keys.Length == 0)
            {
                break;
            }

            Assert.Equal("OK", await Cli(source.Port, ["migrate", "127.0.0.1", target.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "keys", .. keys]));
            await Task.Delay(50); // in batches, with the slot in use between them, as reshard does
        }

        // The new owner first, then the old one, then the others: the order CLUSTER SETSLOT's documentation asks for, so a
        // client told by the old owner that the slot left (an unsolicited SUNSUBSCRIBE) finds the new owner.
        foreach (var node in nodes.Where(n => n.IsMaster).OrderBy(n => n.Port == target.Port ? 0 : n.Port == source.Port ? 1 : 2))
        {
            Assert.Equal("OK", await Cli(node.Port, "cluster", "setslot", slot, "node", target.Id));
        }

        await Wait.UntilAsync(async () => await MasterOfAsync(key) == target.Port && await IsOkAsync(), TimeSpan.FromSeconds(30), "the slot did not move");
        return target.Port;
    }

    private async Task<bool> IsOkAsync()
    {
        foreach (var port in Ports.Where(p => !killed.Contains(p)))
        {
            if (!(await Cli(port, "cluster", "info")).Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Sends <paramref name="signal"/> to one node (SIGKILL kills it, SIGSTOP pauses it).</summary>
    public void Signal(int port, int signal) => nodes[port].Signal(signal);

    /// <summary>A redis-cli command against one node; its output.</summary>
    public static async Task<string> Cli(int port, params string[] arguments)
    {
        await using var cli = ChildProcess.Start(Executable.Find("redis-cli"), ["-p", port.ToString(CultureInfo.InvariantCulture), .. arguments]);
        await cli.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        return string.Join('\n', cli.Output).Trim();
    }

    private static bool Ping(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient("127.0.0.1", port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in nodes.Values)
        {
            await node.DisposeAsync();
        }

        Directory.Delete(directory, recursive: true);
    }
}
