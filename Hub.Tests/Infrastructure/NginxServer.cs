using System.Globalization;
using System.Net.Sockets;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>Real nginx with the repository's deploy/nginx.conf, on a free port, in front of the given hub instances.</summary>
internal sealed class NginxServer : IAsyncDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("chatstreaming-nginx-").FullName;
    private ChildProcess? process;

    public int Port { get; } = LoopbackPorts.Free();

    public string Url => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static async Task<NginxServer> StartAsync(IEnumerable<string> upstreams)
    {
        var server = new NginxServer();
        var config = (await File.ReadAllTextAsync(Path.Combine(BuildOutput.Root, "deploy", "nginx.conf")))
            .Replace("listen 5000;", $"listen 127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)};", StringComparison.Ordinal)
            .Replace("pid /tmp/chatstreaming-nginx.pid;", $"pid {server.directory}/nginx.pid;", StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(server.directory, "nginx.conf"), config);
        var servers = string.Concat(upstreams.Select(u => $"    server {new Uri(u).Authority} max_fails=1 fail_timeout=5s;\n"));
        await File.WriteAllTextAsync(Path.Combine(server.directory, "upstreams.conf"),
            $"upstream chatstreaming {{\n{servers}}}\nupstream chatstreaming_sticky {{\n    hash $remote_addr consistent;\n{servers}}}\n");
        server.process = ChildProcess.Start(Executable.Find("nginx"), ["-p", server.directory + "/", "-c", Path.Combine(server.directory, "nginx.conf"), "-g", "daemon off;"]);
        await Wait.UntilAsync(() =>
        {
            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", server.Port);
                return true;
            }
            catch (SocketException)
            {
                return server.process.HasExited ? throw new InvalidOperationException($"nginx exited: {string.Join('\n', server.process.Output)}") : false;
            }
        }, TimeSpan.FromSeconds(15), "nginx did not start");
        return server;
    }

    public IReadOnlyCollection<string> Output => process?.Output ?? [];

    public async ValueTask DisposeAsync()
    {
        if (process is not null)
        {
            await process.DisposeAsync();
        }

        Directory.Delete(directory, recursive: true);
    }
}
