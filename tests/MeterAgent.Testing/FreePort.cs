using System.Net;
using System.Net.Sockets;

namespace MeterAgent.Testing;

/// <summary>Loopback ports for servers a test starts on a port it must name in advance.</summary>
public static class FreePort
{
    /// <summary>A loopback port the OS just handed out; another process could take it first, which loopback tests accept.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
