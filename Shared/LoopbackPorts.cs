using System.Net;
using System.Net.Sockets;

namespace ChatStreaming.Shared;

/// <summary>
/// Ports for the servers the tests and the benchmark start on this machine (one source file, linked into
/// <c>Hub.Tests</c> and <c>Bench</c>).
/// </summary>
internal static class LoopbackPorts
{
    private const int Lowest = 10000;

    /// <summary>
    /// A loopback port free right now, below the system's ephemeral range: outgoing connections (thousands in a suite
    /// run) and other binds to port 0 take their ports from that range, so a server stopped and started again on its
    /// port (Redis and Postgres in the fault tests) never finds it taken by one of them. Two callers may still draw the
    /// same port (rarely): the second server to bind it fails to start, loudly. The tests' hubs do not use this: they
    /// bind port 0 and say which port they got (<c>HubInstance.Launch</c>).
    /// </summary>
    public static int Free()
    {
        var ephemeralLow = EphemeralLow();
        for (var attempt = 0; ephemeralLow - Lowest > 1000 && attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(Lowest, ephemeralLow);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken: draw again
            }
        }

        using var any = new TcpListener(IPAddress.Loopback, 0); // no room below the range: the system's pick
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }

    /// <summary>The first port of the range the system hands out for outgoing connections and port 0 (Linux: 32768 by default).</summary>
    private static int EphemeralLow()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }
}
