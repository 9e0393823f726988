using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace MeterAgent.Testing;

/// <summary>
/// A POST written on a raw socket, body generated on the fly, with the response read while the body is still being
/// sent. HttpClient may report a server that answers early and closes as a send error; this shows the answer, and how
/// much of the body the server let through before it did.
/// </summary>
public static class RawHttpPost
{
    private const int BlockSize = 64 * 1024;

    public sealed record Response(int Status, string Body, long BytesSent);

    /// <param name="baseUrl">http://host:port/</param>
    /// <param name="path">the request target, e.g. /clearing/deliveries</param>
    /// <param name="contentType">the Content-Type header</param>
    /// <param name="bodyLength">bytes of body to send ('A's): announced in Content-Length, or sent chunked without one</param>
    /// <param name="chunked">Transfer-Encoding: chunked, no Content-Length</param>
    /// <param name="timeout">for the whole exchange</param>
    public static async Task<Response> SendAsync(string baseUrl, string path, string contentType, long bodyLength, bool chunked, TimeSpan timeout)
    {
        var uri = new Uri(baseUrl);
        using var cts = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(uri.Host, uri.Port, cts.Token);
        var stream = client.GetStream();

        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"POST {path} HTTP/1.1\r\nHost: {uri.Host}:{uri.Port}\r\nContent-Type: {contentType}\r\n")
            .Append(chunked ? "Transfer-Encoding: chunked\r\n" : string.Create(CultureInfo.InvariantCulture, $"Content-Length: {bodyLength}\r\n"))
            .Append("\r\n")
            .ToString();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cts.Token);

        var reading = ReadResponseAsync(stream, cts.Token);
        var block = new byte[BlockSize];
        Array.Fill(block, (byte)'A');
        var chunkHeader = Encoding.ASCII.GetBytes(BlockSize.ToString("x", CultureInfo.InvariantCulture) + "\r\n");
        var crlf = "\r\n"u8.ToArray();
        long sent = 0;
        try
        {
            while (sent < bodyLength && !reading.IsCompleted)
            {
                var size = (int)Math.Min(BlockSize, bodyLength - sent);
                if (chunked)
                {
                    await stream.WriteAsync(size == BlockSize ? chunkHeader : Encoding.ASCII.GetBytes(size.ToString("x", CultureInfo.InvariantCulture) + "\r\n"), cts.Token);
                }

                await stream.WriteAsync(block.AsMemory(0, size), cts.Token);
                if (chunked)
                {
                    await stream.WriteAsync(crlf, cts.Token);
                }

                sent += size;
            }

            if (chunked && sent == bodyLength && !reading.IsCompleted)
            {
                await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), cts.Token);
            }
        }
        catch (IOException)
        {
            // The server closed the connection after answering: the point of an early refusal.
        }

        var (status, body) = await reading;
        return new Response(status, body, sent);
    }

    private static async Task<(int Status, string Body)> ReadResponseAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            while (!IsComplete(received))
            {
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset after the answer: keep what arrived.
        }

        var all = Encoding.UTF8.GetString(received.GetBuffer(), 0, (int)received.Length);
        var headerEnd = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headerEnd < 0)
        {
            return (0, all);
        }

        var status = int.Parse(all[..all.IndexOf("\r\n", StringComparison.Ordinal)].Split(' ')[1], CultureInfo.InvariantCulture);
        var body = all[(headerEnd + 4)..];
        return (status, IsChunked(all[..headerEnd]) ? Dechunk(body) : body);
    }

    private static bool IsComplete(MemoryStream received)
    {
        var all = Encoding.ASCII.GetString(received.GetBuffer(), 0, (int)received.Length);
        var headerEnd = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headerEnd < 0)
        {
            return false;
        }

        var head = all[..headerEnd];
        var body = all[(headerEnd + 4)..];
        if (IsChunked(head))
        {
            return body.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
        }

        var length = head.Split("\r\n").FirstOrDefault(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        return length is not null && body.Length >= int.Parse(length["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
    }

    private static bool IsChunked(string head) =>
        head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase);

    private static string Dechunk(string body)
    {
        var result = new StringBuilder();
        var at = 0;
        while (at < body.Length)
        {
            var lineEnd = body.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (lineEnd < 0)
            {
                break;
            }

            var size = int.Parse(body[at..lineEnd], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0 || lineEnd + 2 + size > body.Length)
            {
                break;
            }

            result.Append(body, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }

        return result.ToString();
    }
}
