using System.Buffers;

namespace MeterAgent.Common;

/// <summary>
/// A request body read once into a pooled buffer: parsed in place, then replayed to the upstream as the request's body
/// (itself a read-only stream over those bytes, so the replay costs no stream of its own). Disposing it gives the buffer
/// back; a read after that fails rather than reading bytes the pool has handed to someone else.
/// </summary>
internal sealed class RequestBody : Stream
{
    private byte[]? _buffer;
    private byte[]? _replacement;
    private int _position;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        BodyLength = length;
    }

    /// <summary>The body's length as read.</summary>
    public int BodyLength { get; }

    /// <summary>The body as read.</summary>
    public ReadOnlySpan<byte> Span => _buffer is null ? throw new ObjectDisposedException(nameof(RequestBody)) : _buffer.AsSpan(0, BodyLength);

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
        _replacement = replacement;
        _position = 0;
        request.Body = this;
        request.ContentLength = Length;
        request.Headers.TransferEncoding = default;
    }

    // What a read returns: the replacement once one is set, else the body as read.
    private ReadOnlySpan<byte> Replayed =>
        _buffer is null ? throw new ObjectDisposedException(nameof(RequestBody)) : _replacement ?? Span;

    public override bool CanRead => _buffer is not null;

    public override bool CanSeek => _buffer is not null;

    public override bool CanWrite => false;

    /// <summary>The bytes a read returns from the start: the replacement's once one is set.</summary>
    public override long Length => _replacement?.Length ?? BodyLength;

    public override long Position
    {
        get => _position;
        set => _position = (int)Math.Clamp(value, 0, Length);
    }

    public override int Read(Span<byte> buffer)
    {
        var rest = Replayed[_position..];
        var count = Math.Min(rest.Length, buffer.Length);
        rest[..count].CopyTo(buffer);
        _position += count;
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => Length + offset,
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        base.Dispose(disposing);
    }
}
