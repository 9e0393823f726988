using System.Buffers;

namespace MeterAgent.Common;

/// <summary>A request body read once into a pooled buffer: parsed in place, then replayed to the upstream.</summary>
internal sealed class RequestBody : IDisposable
{
    private byte[]? _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>Reads the whole body; null when it exceeds <paramref name="limit"/> bytes.</summary>
    public static async ValueTask<RequestBody?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var declared = request.ContentLength;
        if (declared > limit)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(declared is > 0 ? (int)declared.Value : 4096);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length >= limit)
                    {
                        // One more byte would tell us it is over the limit: probe with a tiny read.
                        var probe = new byte[1];
                        if (await request.Body.ReadAsync(probe, cancellationToken) == 0)
                        {
                            break;
                        }

                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                        return null;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit, (long)buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length, (int)Math.Min(buffer.Length - length, limit - length + 1)), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                    return null;
                }
            }

            var body = new RequestBody(buffer, length);
            buffer = null;
            return body;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>Replaces the request's body with these bytes (or <paramref name="replacement"/>) for the upstream.</summary>
    public void ReplayInto(HttpRequest request, byte[]? replacement)
    {
        var stream = replacement is null
            ? new MemoryStream(_buffer!, 0, Length, writable: false)
            : new MemoryStream(replacement, writable: false);
        request.Body = stream;
        request.ContentLength = stream.Length;
        request.Headers.TransferEncoding = default;
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }
}
