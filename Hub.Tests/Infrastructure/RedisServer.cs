using StackExchange.Redis;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>A real redis-server on a free loopback port, in memory only, owned by the tests (can be stopped and restarted).</summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("chatstreaming-redis-").FullName;
    private ChildProcess? process;

    public int Port { get; } = LoopbackPorts.Free();

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer();
        await server.StartProcessAsync();
        return server;
    }

    public async Task StartProcessAsync()
    {
        process = ChildProcess.Start(Executable.Find("redis-server"), [
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", directory, "--protected-mode", "no"]);
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync(ConnectionString);
                return connection.IsConnected;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "redis-server did not start");
    }

    /// <summary>Sends <paramref name="signal"/> to redis-server (SIGSTOP pauses it, SIGCONT resumes it).</summary>
    public void Signal(int signal) => (process ?? throw new InvalidOperationException("redis-server is not running")).Signal(signal);

    public async Task StopProcessAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
            process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopProcessAsync();
        Directory.Delete(directory, recursive: true);
    }
}
