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

    private RedisClusterServer(int[] ports) => Ports = ports;

    public IReadOnlyList<int> Ports { get; }

    /// <summary>Every node, as <c>ConnectionStrings:Redis</c> takes them (StackExchange.Redis discovers the rest).</summary>
    public string ConnectionString => string.Join(',', Ports.Select(p => $"127.0.0.1:{p}"));

    public static async Task<RedisClusterServer> StartAsync()
    {
        var cluster = new RedisClusterServer([.. Enumerable.Range(0, 6).Select(_ => Infrastructure.Ports.Free())]);
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
    public async Task<int> MasterOfAsync(RedisKey key)
    {
        var slot = long.Parse(await Cli(Ports[0], "cluster", "keyslot", key.ToString()), CultureInfo.InvariantCulture);
        foreach (var line in (await Cli(Ports[0], "cluster", "nodes")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
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

        throw new InvalidOperationException($"no master owns slot {slot}");
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
