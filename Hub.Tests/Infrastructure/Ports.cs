using System.Net;
using System.Net.Sockets;

namespace ChatStreaming.Hub.Tests.Infrastructure;

internal static class Ports
{
    /// <summary>A loopback port free right now (the OS picks it; a later bind may still race, rarely).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
