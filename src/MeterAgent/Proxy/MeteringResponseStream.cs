using MeterAgent.Metering.Responses;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Proxy;

/// <summary>
/// Stands in for the client's response body while YARP copies the upstream response: every chunk goes through the
/// <see cref="ResponseMeter"/> on its way, so the tap sees exactly what the client is sent, and nothing is buffered.
/// </summary>
internal sealed class MeteringResponseStream : Stream
{
    private readonly HttpResponse _response;
    private readonly Stream _inner;
    private readonly ApiSurface _surface;
    private readonly bool _hideUsageChunk;
    private readonly TimeProvider _clock;
    private ResponseMeter? _meter;

    public MeteringResponseStream(HttpResponse response, Stream inner, ApiSurface surface, bool hideUsageChunk, TimeProvider clock)
    {
        _response = response;
        _inner = inner;
        _surface = surface;
        _hideUsageChunk = hideUsageChunk;
        _clock = clock;
    }

    public DateTimeOffset? FirstTokenAt { get; private set; }

    /// <summary>When the first body bytes went to the client: for a whole JSON body, that is when its tokens arrived.</summary>
    public DateTimeOffset? FirstByteAt { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Created on the first body bytes: by then YARP has copied the upstream headers, so the content type is known.
        var meter = _meter ??= NewMeter();
        FirstByteAt ??= _clock.GetUtcNow();
        var toClient = meter.Process(buffer);
        if (FirstTokenAt is null && meter.SawFirstToken)
        {
            FirstTokenAt = _clock.GetUtcNow();
        }

        if (!toClient.IsEmpty)
        {
            await _inner.WriteAsync(toClient, cancellationToken);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new InvalidOperationException("Synchronous writes are not allowed on the response body.");

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override void Flush() => throw new InvalidOperationException("Synchronous flushes are not allowed on the response body.");

    /// <summary>
    /// Ends the tap. Bytes the meter still held back (an unterminated trailing event) are sent when the client is still
    /// there; the result describes what was delivered. ClientGone is true when sending them found the client gone.
    /// </summary>
    public async ValueTask<(MeteredResponse Result, bool ClientGone)> CompleteAsync(bool clientConnected, CancellationToken cancellationToken)
    {
        var meter = _meter ??= NewMeter();
        var (remaining, result) = meter.Complete();
        if (!clientConnected || remaining.IsEmpty)
        {
            return (result, false);
        }

        try
        {
            await _inner.WriteAsync(remaining, cancellationToken);
            return (result, false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            return (result, true);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // Short output is counted as the response ends, on this thread, where the settlement would count it anyway.
    private ResponseMeter NewMeter() =>
        new(_surface, _response.ContentType, _hideUsageChunk, ResponseMeterLimits.Default, ReferenceTokenizer.Instance);
}
