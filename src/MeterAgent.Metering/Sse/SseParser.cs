using MeterAgent.Metering.Buffers;

namespace MeterAgent.Metering.Sse;

/// <summary>
/// Incremental text/event-stream parser (WHATWG HTML "event stream interpretation") over raw bytes, so a chunk may end
/// anywhere: mid-line, between \r and \n, or inside a UTF-8 sequence (nothing is decoded until an event is whole).
/// Only the data and event fields matter for metering; id and retry are ignored.
/// Nothing grows past <c>maxEventBytes</c>: of a longer line only that much is kept (enough to see its field), an
/// event whose data or type does not fit is dispatched without data (<see cref="EventOverflowed"/>).
/// </summary>
internal sealed class SseParser(int maxEventBytes) : IDisposable
{
    private readonly PooledBuffer _line = new();
    private readonly PooledBuffer _data = new();
    private readonly PooledBuffer _eventName = new();
    private bool _afterCarriageReturn;
    private bool _dispatched;
    private bool _lineOverflowed;

    /// <summary>After <see cref="Advance"/> returned true: whether the blank line completed an event (data was set).</summary>
    public bool HasEvent { get; private set; }

    /// <summary>After <see cref="Advance"/> returned true with an event: its data or type went past the bound and was dropped.</summary>
    public bool EventOverflowed { get; private set; }

    /// <summary>Some event's data or type was dropped over the bound (comment lines do not count: they carry nothing).</summary>
    public bool Overflowed { get; private set; }

    /// <summary>The dispatched event's type ("message" when absent is left to the caller: this is empty then).</summary>
    public ReadOnlySpan<byte> EventName => _eventName.Span;

    /// <summary>The dispatched event's data lines joined with \n.</summary>
    public ReadOnlyMemory<byte> Data => _data.Memory;

    /// <summary>The last line ended with a lone \r so far: a \n that comes next still belongs to that line ending.</summary>
    public bool EndedWithCarriageReturn => _afterCarriageReturn;

    /// <summary>
    /// Consumes <paramref name="chunk"/> from <paramref name="position"/> up to and including the next blank line, or to its end.
    /// Returns true when a blank line was consumed (<paramref name="position"/> is then just past it).
    /// </summary>
    public bool Advance(ReadOnlySpan<byte> chunk, ref int position)
    {
        if (_dispatched)
        {
            _dispatched = false;
            HasEvent = false;
            EventOverflowed = false;
            _data.Clear();
            _eventName.Clear();
        }

        while (position < chunk.Length)
        {
            if (_afterCarriageReturn)
            {
                _afterCarriageReturn = false;
                if (chunk[position] == (byte)'\n')
                {
                    position++;
                    continue;
                }
            }

            var rest = chunk[position..];
            var end = rest.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                AppendLine(rest);
                position = chunk.Length;
                return false;
            }

            position += end + 1;
            _afterCarriageReturn = rest[end] == (byte)'\r';
            bool blank;
            if (_line.Length == 0 && !_lineOverflowed)
            {
                blank = ProcessLine(rest[..end]);
            }
            else
            {
                AppendLine(rest[..end]);
                blank = _lineOverflowed ? ProcessOverflowedLine(_line.Span) : ProcessLine(_line.Span);
                _line.Clear();
                _lineOverflowed = false;
            }

            if (blank)
            {
                _dispatched = true;
                return true;
            }
        }

        return false;
    }

    public void Dispose()
    {
        _line.Dispose();
        _data.Dispose();
        _eventName.Dispose();
    }

    /// <summary>Keeps at most the bound of a line that spans chunks; the rest of an overlong line is only passed on.</summary>
    private void AppendLine(ReadOnlySpan<byte> part)
    {
        var room = maxEventBytes - _line.Length;
        if (part.Length > room)
        {
            _line.Append(part[..room]);
            if (!_lineOverflowed && LosesEvent(_line.Span))
            {
                // Said now: the line may never end (a response cut in the middle of it).
                Overflowed = true;
            }

            _lineOverflowed = true;
        }
        else
        {
            _line.Append(part);
        }
    }

    /// <summary>A line past the bound, of which only the start was kept: a data or event line loses its event.</summary>
    private bool ProcessOverflowedLine(ReadOnlySpan<byte> start)
    {
        if (LosesEvent(start))
        {
            DropEvent();
        }

        return false;
    }

    /// <summary>Whether a line (of which this is the start) is a data or event line, not a comment, id or retry.</summary>
    private static bool LosesEvent(ReadOnlySpan<byte> start)
    {
        var colon = start.IndexOf((byte)':');
        var field = colon < 0 ? start : start[..colon];
        return field.SequenceEqual("data"u8) || field.SequenceEqual("event"u8);
    }

    private void DropEvent()
    {
        EventOverflowed = true;
        Overflowed = true;
        _data.Clear();

        // Still non-empty, so the blank line dispatches the event (as overflowed) rather than dropping it silently.
        _data.Append((byte)'\n');
    }

    /// <returns>True for a blank line (dispatch).</returns>
    private bool ProcessLine(ReadOnlySpan<byte> line)
    {
        if (line.IsEmpty)
        {
            if (_data.Length == 0)
            {
                // No data: nothing is dispatched and the event type is forgotten.
                _eventName.Clear();
                HasEvent = false;
            }
            else
            {
                _data.TrimLast();
                HasEvent = true;
            }

            return true;
        }

        if (line[0] == (byte)':')
        {
            return false;
        }

        var colon = line.IndexOf((byte)':');
        var field = colon < 0 ? line : line[..colon];
        var value = colon < 0 ? [] : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        if (field.SequenceEqual("data"u8))
        {
            if (EventOverflowed)
            {
                return false;
            }

            if (value.Length + 1 > maxEventBytes - _data.Length)
            {
                DropEvent();
                return false;
            }

            _data.Append(value);
            _data.Append((byte)'\n');
        }
        else if (field.SequenceEqual("event"u8))
        {
            if (value.Length > maxEventBytes)
            {
                DropEvent();
                return false;
            }

            _eventName.Clear();
            _eventName.Append(value);
        }

        return false;
    }
}
