using System.Net;
using System.Net.Sockets;

namespace MeterAgent.IntegrationTests.Infrastructure;

internal static class FreePort
{
    /// <summary>A loopback port the OS just handed out; another process could take it before us, which loopback tests accept.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
