using System.Text.Json;
using MeterAgent.Metering.Buffers;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Responses.Readers;
using MeterAgent.Metering.Sse;
using MeterAgent.Metering.Surfaces;

namespace MeterAgent.Metering.Responses;

/// <summary>
/// Taps one upstream response as it passes, without holding it back: SSE is parsed incrementally
/// (events may be split anywhere, mid-line or mid-UTF-8 character), JSON is kept once and read at the end. Both are read with
/// Utf8JsonReader straight from the bytes, looking only at the members metering needs (no JsonDocument, no string per delta).
/// Not thread-safe: one instance per response, fed in order.
/// </summary>
public sealed class ResponseMeter
{
    private readonly Mode _mode;
    private readonly bool _hide;
    private readonly ResponseReader _reader;
    private readonly SseParser? _sse;
    private readonly PooledBuffer? _body;

    // While hiding: the bytes of the event still being received (from earlier chunks), and this call's output.
    private readonly PooledBuffer? _held;
    private readonly PooledBuffer? _output;

    // An event ended with \r at a chunk's end: a \n first in the next chunk still belongs to it.
    private LineFeed _lineFeedOfLastEvent;
    private bool _malformed;
    private bool _bodyComplete;
    private bool _completed;

    /// <param name="surface">The API surface.</param>
    /// <param name="contentType">The upstream Content-Type (text/event-stream or application/json; anything else is only passed through).</param>
    /// <param name="hideUsageChunk">OpenAI streams only: drop the usage-only chunk (choices empty, usage set) the proxy asked for
    /// on the client's behalf. Everything else reaches the client byte-identical.</param>
    public ResponseMeter(ApiSurface surface, string? contentType, bool hideUsageChunk)
    {
        _reader = ResponseReader.For(surface);
        _mode = ModeOf(contentType);
        if (_mode == Mode.EventStream)
        {
            _sse = new SseParser();
            _hide = hideUsageChunk && surface is ApiSurface.OpenAIChatCompletions or ApiSurface.OpenAICompletions;
            if (_hide)
            {
                _held = new PooledBuffer();
                _output = new PooledBuffer();
            }
        }
        else if (_mode == Mode.Json)
        {
            _body = new PooledBuffer();
        }
    }

    private enum LineFeed
    {
        None,
        Pass,
        Drop,
    }

    private enum Mode
    {
        PassThrough,
        EventStream,
        Json,
    }

    /// <summary>Set once the first chunk carrying generated content (a text or tool delta, or a complete JSON body) has been seen.</summary>
    public bool SawFirstToken => _reader.SawFirstToken;

    /// <summary>
    /// Feeds the next upstream chunk and returns what the client must receive for it: the same memory when nothing is
    /// hidden (the usual case), otherwise a slice of an internal buffer that stays valid until the next call.
    /// </summary>
    public ReadOnlyMemory<byte> Process(ReadOnlyMemory<byte> chunk)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        switch (_mode)
        {
            case Mode.Json:
                _body!.Append(chunk.Span);
                return chunk;
            case Mode.EventStream when !_hide:
                Scan(chunk.Span);
                return chunk;
            case Mode.EventStream:
                return ScanHiding(chunk);
            default:
                return chunk;
        }
    }

    /// <summary>Ends the response (also after a disconnect: what was seen so far is what was delivered).</summary>
    /// <returns>The bytes still held back (an incomplete trailing event when hiding), to send before finishing, and the metering result.</returns>
    public (ReadOnlyMemory<byte> Remaining, MeteredResponse Result) Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;

        ReadOnlyMemory<byte> remaining = ReadOnlyMemory<byte>.Empty;
        if (_held is { Length: > 0 })
        {
            // Copied out: the pooled buffers go back to the pool now.
            remaining = _held.Span.ToArray();
        }

        if (_mode == Mode.Json)
        {
            ParseBody();
        }

        var segments = new SegmentList();
        _reader.CollectOutput(segments);
        var result = new MeteredResponse
        {
            NativeUsage = _reader.Usage,
            NativeUsageFinal = _reader.Usage is not null && _reader.UsageFinal,
            NativeUsageSuspect = _reader.UsageSuspect,
            ServedModel = _reader.ServedModel,
            OutputSegments = segments.Segments,
            Complete = _reader.Complete || _bodyComplete,
            Malformed = _malformed,
            UpstreamError = _reader.UpstreamError,
        };

        _reader.Dispose();
        _sse?.Dispose();
        _body?.Dispose();
        _held?.Dispose();
        _output?.Dispose();
        return (remaining, result);
    }

    private static Mode ModeOf(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return Mode.PassThrough;
        }

        var mediaType = contentType.AsSpan();
        var parameters = mediaType.IndexOf(';');
        if (parameters >= 0)
        {
            mediaType = mediaType[..parameters];
        }

        mediaType = mediaType.Trim();
        if (mediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return Mode.EventStream;
        }

        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
            ? Mode.Json
            : Mode.PassThrough;
    }

    private void Scan(ReadOnlySpan<byte> chunk)
    {
        var position = 0;
        while (position < chunk.Length)
        {
            if (_sse!.Advance(chunk, ref position) && _sse.HasEvent)
            {
                Dispatch();
            }
        }
    }

    /// <summary>
    /// Passes every byte on except those of the usage-only event. Only an incomplete event is held back, since whether it
    /// is the one to hide is known when its blank line arrives. Without a hidden event and nothing held, the output is a
    /// slice of the chunk itself.
    /// </summary>
    private ReadOnlyMemory<byte> ScanHiding(ReadOnlyMemory<byte> chunk)
    {
        var span = chunk.Span;
        var held = _held!;
        var output = _output!;
        output.Clear();

        // The output is chunk[..released] as long as nothing had to be copied (the zero-copy case).
        var copying = held.Length > 0;
        var released = 0;
        var regionStart = 0;
        var pending = _lineFeedOfLastEvent;
        _lineFeedOfLastEvent = LineFeed.None;
        if (pending != LineFeed.None && !span.IsEmpty && span[0] == (byte)'\n')
        {
            // The \n completing the \r\n that ended the previous chunk's last event goes (or not) with that event.
            regionStart = 1;
            if (pending == LineFeed.Pass)
            {
                released = 1;
            }
            else
            {
                copying = true;
            }
        }

        var position = 0;
        while (position < span.Length)
        {
            if (!_sse!.Advance(span, ref position))
            {
                continue;
            }

            var hidden = _sse.HasEvent && Dispatch();

            // An event's bytes end after its blank line, including the \n of a \r\n that the parser skips on its own.
            var end = position;
            if (_sse.EndedWithCarriageReturn)
            {
                if (position == span.Length)
                {
                    _lineFeedOfLastEvent = hidden ? LineFeed.Drop : LineFeed.Pass;
                }
                else if (span[position] == (byte)'\n')
                {
                    end = position + 1;
                }
            }

            if (!hidden)
            {
                if (copying)
                {
                    output.Append(held.Span);
                    output.Append(span[regionStart..end]);
                }

                released = end;
            }
            else if (!copying)
            {
                output.Append(span[..released]);
                copying = true;
            }

            held.Clear();
            regionStart = end;
        }

        held.Append(span[regionStart..]);
        return copying ? output.Memory : chunk[..released];
    }

    /// <returns>True when the event is to be hidden from the client.</returns>
    private bool Dispatch()
    {
        var data = _sse!.Data.Span;
        if (_reader.OnSentinel(data))
        {
            return false;
        }

        try
        {
            return _reader.OnEvent(_sse.EventName, data) && _hide;
        }
        catch (JsonException)
        {
            _malformed = true;
            return false;
        }
    }

    private void ParseBody()
    {
        var body = _body!;
        if (body.Length == 0)
        {
            _malformed = true;
            return;
        }

        try
        {
            _reader.OnBody(body.Span);
            _bodyComplete = true;
        }
        catch (JsonException)
        {
            _malformed = true;
        }
    }
}
