using System.Net;
using System.Net.Sockets;

namespace MeterAgent.LoadHarness;

internal static class FreePort
{
    /// <summary>A loopback port the OS just handed out; another process could take it first, which a loopback harness accepts.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
