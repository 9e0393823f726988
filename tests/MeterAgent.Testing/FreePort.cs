using System.Net;
using System.Net.Sockets;

namespace MeterAgent.Testing;

/// <summary>Loopback ports for servers a test starts on a port it must name in advance.</summary>
public static class FreePort
{
    // Below Linux's ephemeral range (32768-60999): a port the OS hands out for binding to 0 is also one it hands out to
    // the next outgoing connection, so a server started a moment later could find its port taken by a client socket.
    private const int First = 20_000;
    private const int Count = 12_000;

    // Each test process walks the range from its own random start, so parallel test projects rarely meet.
    private static int _next = Random.Shared.Next(Count);

    /// <summary>A loopback port outside the ephemeral range that was free when checked; another process could still take it first.</summary>
    public static int Next()
    {
        for (var tries = 0; tries < Count; tries++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref _next) % Count);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException)
            {
                // In use: try the next one.
            }
        }

        throw new InvalidOperationException($"No free loopback port in {First}-{First + Count - 1}.");
    }
}
