using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace MeterAgent.Testing;

/// <summary>
/// HTTP clients whose connections come from a chosen loopback address (127.0.0.2, 127.0.0.3, ...): a second caller
/// with a source address of its own, for what the agent decides per address (the failed-auth throttle).
/// </summary>
public static class LoopbackSource
{
    /// <param name="baseUrl">the agent's port, e.g. <see cref="TestAgent.ProxyUrl"/></param>
    /// <param name="source">the local address to connect from, in 127.0.0.0/8</param>
    /// <param name="bearer">a bearer token sent on every request, if any</param>
    public static HttpClient Client(string baseUrl, string source, string? bearer = null)
    {
        var local = IPAddress.Parse(source);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }
}
