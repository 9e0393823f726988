using System.Text.Json;
using MeterAgent.Metering.Buffers;
using MeterAgent.Metering.Canonical;
using MeterAgent.Metering.Responses.Readers;
using MeterAgent.Metering.Sse;
using MeterAgent.Metering.Surfaces;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Metering.Responses;

/// <summary>
/// Taps one upstream response as it passes, without holding it back: SSE is parsed incrementally
/// (events may be split anywhere, mid-line or mid-UTF-8 character), JSON is kept once and read at the end. Both are read with
/// Utf8JsonReader straight from the bytes, looking only at the members metering needs (no JsonDocument, no string per delta).
/// Not thread-safe: one instance per response, fed in order.
/// Every buffer is bounded (<see cref="ResponseMeterLimits"/>): past a bound the tap stops keeping bytes but still
/// passes every one on, and says so in <see cref="MeteredResponse.Truncated"/>.
/// </summary>
public sealed class ResponseMeter
{
    private readonly ResponseMeterLimits _limits;
    private readonly Mode _mode;
    private readonly bool _hide;
    private readonly ResponseReader _reader;
    private readonly ReferenceTokenizer? _counter;
    private readonly SseParser? _sse;
    private PooledBuffer? _body;

    // Set once a JSON body outgrew MaxBodyBytes: from then on it is only scanned for its root usage and model.
    private RootMemberScan? _scan;

    // While hiding: the bytes of the event still being received (from earlier chunks), and this call's output.
    private readonly PooledBuffer? _held;
    private readonly PooledBuffer? _output;

    // An event ended with \r at a chunk's end: a \n first in the next chunk still belongs to it.
    private LineFeed _lineFeedOfLastEvent;
    private bool _malformed;
    private bool _bodyComplete;
    private bool _completed;

    // While hiding: the event being received outgrew MaxEventBytes, so it is passed on as it comes (never hidden).
    private bool _releasing;
    private long _delivered;

    /// <param name="surface">The API surface.</param>
    /// <param name="contentType">The upstream Content-Type (text/event-stream or application/json; anything else is only passed through).</param>
    /// <param name="hideUsageChunk">OpenAI streams only: drop the usage-only chunk (choices empty, usage set) the proxy asked for
    /// on the client's behalf. Everything else reaches the client byte-identical.</param>
    public ResponseMeter(ApiSurface surface, string? contentType, bool hideUsageChunk)
        : this(surface, contentType, hideUsageChunk, ResponseMeterLimits.Default)
    {
    }

    /// <param name="surface">The API surface.</param>
    /// <param name="contentType">As for the constructor without limits.</param>
    /// <param name="hideUsageChunk">As for the constructor without limits.</param>
    /// <param name="limits">How much of the response may be buffered.</param>
    public ResponseMeter(ApiSurface surface, string? contentType, bool hideUsageChunk, ResponseMeterLimits limits)
        : this(surface, contentType, hideUsageChunk, limits, counter: null)
    {
    }

    /// <param name="surface">The API surface.</param>
    /// <param name="contentType">As for the constructor without limits.</param>
    /// <param name="hideUsageChunk">As for the constructor without limits.</param>
    /// <param name="limits">How much of the response may be buffered.</param>
    /// <param name="counter">
    /// Counts the output's short text as it is collected (<see cref="MeteredResponse.OutputTokensCounted"/>) rather than
    /// keeping it among <see cref="MeteredResponse.OutputSegments"/>; null keeps every segment.
    /// </param>
    public ResponseMeter(ApiSurface surface, string? contentType, bool hideUsageChunk, ResponseMeterLimits limits, ReferenceTokenizer? counter)
    {
        _counter = counter;
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
        _reader = ResponseReader.For(surface, limits.MaxTextChars);
        _mode = ModeOf(contentType);
        if (_mode == Mode.EventStream)
        {
            _sse = new SseParser(limits.MaxEventBytes);
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
        var output = _mode switch
        {
            Mode.Json => KeepBody(chunk),
            Mode.EventStream when !_hide => Scan(chunk),
            Mode.EventStream => ScanHiding(chunk),
            _ => chunk,
        };
        _delivered += output.Length;
        return output;
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

        _delivered += remaining.Length;

        if (_mode == Mode.Json)
        {
            ParseBody();
        }

        var segments = new SegmentList(_counter);
        _reader.CollectOutput(ref segments);
        var truncation = Truncation();
        var result = new MeteredResponse
        {
            NativeUsage = _reader.Usage,
            NativeUsageFinal = _reader.Usage is not null && _reader.UsageFinal,
            NativeUsageSuspect = _reader.UsageSuspect,
            ServedModel = _reader.ServedModel,
            OutputSegments = segments.Segments,
            OutputTokensCounted = segments.CountedTokens,
            Complete = _reader.Complete || _bodyComplete,
            Malformed = _malformed,
            UpstreamError = _reader.UpstreamError,
            Truncated = truncation is not null,
            TruncatedReason = truncation,
            DeliveredBytes = _delivered,
        };

        _reader.Dispose();
        _sse?.Dispose();
        _body?.Dispose();
        _scan?.Dispose();
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

    /// <summary>Keeps a JSON body up to the bound; past it, only follows it for its root usage and model.</summary>
    private ReadOnlyMemory<byte> KeepBody(ReadOnlyMemory<byte> chunk)
    {
        if (_scan is null)
        {
            if (chunk.Length <= _limits.MaxBodyBytes - _body!.Length)
            {
                _body.Append(chunk.Span);
                return chunk;
            }

            _scan = new RootMemberScan();
            _scan.Feed(_body.Span);
            _body.Dispose();
            _body = null;
        }

        _scan.Feed(chunk.Span);
        return chunk;
    }

    private string? Truncation()
    {
        if (_scan is not null)
        {
            return $"JSON body over {_limits.MaxBodyBytes} bytes: only its root usage and model were read";
        }

        if (_sse is { Overflowed: true })
        {
            return $"SSE line or event over {_limits.MaxEventBytes} bytes was not read";
        }

        return _reader.TextTruncated ? $"output text over {_limits.MaxTextChars} chars was not kept" : null;
    }

    private ReadOnlyMemory<byte> Scan(ReadOnlyMemory<byte> memory)
    {
        var chunk = memory.Span;
        var position = 0;
        while (position < chunk.Length)
        {
            if (_sse!.Advance(chunk, ref position) && _sse.HasEvent)
            {
                Dispatch();
            }
        }

        return memory;
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

            // An event already partly released cannot be hidden any more.
            var hidden = _sse.HasEvent && Dispatch() && !_releasing;
            _releasing = false;

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

        var rest = span[regionStart..];
        if (_releasing || rest.Length > _limits.MaxEventBytes - held.Length)
        {
            // Too large to hold back until its end: pass it on now (and the rest of it as it comes).
            _releasing = true;
            if (!copying)
            {
                // Nothing was held before this chunk nor hidden in it: the whole chunk goes on as it is.
                return chunk;
            }

            output.Append(held.Span);
            output.Append(rest);
            held.Clear();
            return output.Memory;
        }

        held.Append(rest);
        return copying ? output.Memory : chunk[..released];
    }

    /// <returns>True when the event is to be hidden from the client.</returns>
    private bool Dispatch()
    {
        if (_sse!.EventOverflowed)
        {
            // Its data was not kept: nothing to read (reported as truncated, not malformed).
            return false;
        }

        var data = _sse.Data.Span;
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
        if (_scan is not null)
        {
            ParseScannedBody(_scan);
            return;
        }

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

    /// <summary>A body too large to keep: its root usage and model, read by the surface's reader as a body of just those.</summary>
    private void ParseScannedBody(RootMemberScan scan)
    {
        if (!scan.Whole)
        {
            _malformed = true;
            return;
        }

        using var summary = new PooledBuffer();
        scan.WriteSummary(summary);
        try
        {
            _reader.OnBody(summary.Span);
            _bodyComplete = true;
        }
        catch (JsonException)
        {
            _malformed = true;
        }
    }
}
