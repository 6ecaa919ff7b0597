using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ChatStreaming.Hub.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of a hub, so a test can cut a client's link (no root, no iptables): <see cref="Cut"/>
/// resets every open connection, and a connection opened during the cut gets no answer until the cut ends (as packets
/// to an unreachable network are lost and retransmitted), then goes through.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private volatile IPEndPoint upstream;
    private readonly ConcurrentDictionary<TcpClient, TcpClient> links = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Task accepting;
    private long cutUntil; // Environment.TickCount64 before which new connections are refused

    public TcpProxy(Uri upstreamUrl)
    {
        upstream = new IPEndPoint(IPAddress.Loopback, upstreamUrl.Port);
        listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
        accepting = AcceptAsync();
    }

    public string Url { get; }

    /// <summary>Resets every connection now; new ones hang until <paramref name="duration"/> has passed.</summary>
    public void Cut(TimeSpan duration)
    {
        Interlocked.Exchange(ref cutUntil, Environment.TickCount64 + (long)duration.TotalMilliseconds);
        foreach (var (client, server) in links)
        {
            Drop(client, server);
        }
    }

    /// <summary>Connections opened from now on go to <paramref name="upstreamUrl"/> (another hub: a client comes back elsewhere).</summary>
    public void Redirect(Uri upstreamUrl) => upstream = new IPEndPoint(IPAddress.Loopback, upstreamUrl.Port);

    private bool IsCut => Environment.TickCount64 < Interlocked.Read(ref cutUntil);

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = LinkAsync(client);
        }
    }

    private async Task LinkAsync(TcpClient client)
    {
        var server = new TcpClient();
        try
        {
            while (IsCut)
            {
                await Task.Delay(100, stopping.Token); // unanswered while the link is down
            }

            await server.ConnectAsync(upstream, stopping.Token);
            links[client] = server;
            var a = client.GetStream().CopyToAsync(server.GetStream(), stopping.Token);
            var b = server.GetStream().CopyToAsync(client.GetStream(), stopping.Token);
            await Task.WhenAny(a, b);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            Drop(client, server);
        }
    }

    private void Drop(TcpClient client, TcpClient server)
    {
        links.TryRemove(client, out _);
        foreach (var socket in new[] { client, server })
        {
            try
            {
                socket.Client.LingerState = new LingerOption(true, 0);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }

            socket.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        listener.Stop();
        await accepting;
        foreach (var (client, server) in links)
        {
            Drop(client, server);
        }

        stopping.Dispose();
    }
}
