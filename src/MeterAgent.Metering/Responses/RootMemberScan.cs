using System.Buffers;
using MeterAgent.Metering.Buffers;

namespace MeterAgent.Metering.Responses;

/// <summary>
/// Follows a JSON body too large to keep, chunk by chunk, and keeps only the values of its root "model" and "usage"
/// members (each up to <see cref="MaxValueBytes"/>), so the native usage of a huge body is still read: every surface
/// reports it at the root, and OpenAI's is after the bulk of the body. It tracks strings, escapes and nesting, not
/// the full grammar: the kept values are read (and validated) by the surface's reader afterwards.
/// </summary>
internal sealed class RootMemberScan : IDisposable
{
    public const int MaxValueBytes = 64 * 1024;
    private const int MaxNameBytes = 16;

    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"{}[],:"u8);
    private static readonly SearchValues<byte> StringStops = SearchValues.Create("\"\\"u8);

    private readonly PooledBuffer _model = new();
    private readonly PooledBuffer _usage = new();
    private readonly byte[] _name = new byte[MaxNameBytes];
    private int _nameLength;
    private bool _nameTooLong;

    private int _depth;
    private bool _inString;
    private bool _escaped;
    private bool _expectName;
    private bool _capturingName;
    private PooledBuffer? _capture;
    private bool _captureTooLong;
    private bool _started;
    private bool _ended;
    private bool _broken;

    /// <summary>The body was one object with nothing after it (as far as this light scan can tell).</summary>
    public bool Whole => _ended && !_broken && !_inString;

    public void Feed(ReadOnlySpan<byte> chunk)
    {
        var position = 0;
        while (position < chunk.Length && !_broken)
        {
            var rest = chunk[position..];
            if (_inString)
            {
                if (_escaped)
                {
                    // The escaped byte itself: never a quote that ends the string.
                    _escaped = false;
                    Keep(rest[..1]);
                    position++;
                    continue;
                }

                var stop = rest.IndexOfAny(StringStops);
                var run = stop < 0 ? rest : rest[..(stop + 1)];
                Keep(run);
                position += run.Length;
                if (stop >= 0)
                {
                    if (rest[stop] == (byte)'\\')
                    {
                        _escaped = true;
                    }
                    else
                    {
                        _inString = false;
                        if (_capturingName)
                        {
                            // The closing quote was kept with the name; it is not part of it.
                            _capturingName = false;
                            _nameLength--;
                        }
                    }
                }

                continue;
            }

            var next = rest.IndexOfAny(Structural);
            var plain = next < 0 ? rest : rest[..next];
            if (_ended || !_started)
            {
                // Outside the root object only whitespace may appear.
                if (plain.IndexOfAnyExcept(" \t\r\n"u8) >= 0)
                {
                    _broken = true;
                    return;
                }
            }
            else
            {
                Keep(plain);
            }

            if (next < 0)
            {
                return;
            }

            position += next + 1;
            Structure(rest[next], rest.Slice(next, 1));
        }
    }

    /// <summary>A body of the root's "model" and "usage" values as they were written: what a reader needs of the whole body.</summary>
    public void WriteSummary(PooledBuffer destination)
    {
        destination.Append((byte)'{');
        if (_model.Length > 0)
        {
            destination.Append("\"model\":"u8);
            destination.Append(_model.Span);
        }

        if (_usage.Length > 0)
        {
            if (_model.Length > 0)
            {
                destination.Append((byte)',');
            }

            destination.Append("\"usage\":"u8);
            destination.Append(_usage.Span);
        }

        destination.Append((byte)'}');
    }

    public void Dispose()
    {
        _model.Dispose();
        _usage.Dispose();
    }

    private void Structure(byte token, ReadOnlySpan<byte> bytes)
    {
        if (_ended)
        {
            _broken = true;
            return;
        }

        if (!_started)
        {
            _started = true;
            if (token != (byte)'{')
            {
                _broken = true;
                return;
            }

            _depth = 1;
            _expectName = true;
            return;
        }

        if (_depth == 1 && (token == (byte)',' || token == (byte)'}'))
        {
            EndCapture();
            _expectName = token == (byte)',';
            if (token == (byte)'}')
            {
                _depth = 0;
                _ended = true;
            }

            return;
        }

        Keep(bytes);
        switch (token)
        {
            case (byte)'"':
                _inString = true;
                if (_depth == 1 && _expectName)
                {
                    _expectName = false;
                    _capturingName = true;
                    _nameLength = 0;
                    _nameTooLong = false;
                }

                break;
            case (byte)'{' or (byte)'[':
                _depth++;
                break;
            case (byte)'}' or (byte)']':
                _depth--;
                break;
            case (byte)':' when _depth == 1:
                StartCapture();
                break;
            default:
                break;
        }
    }

    private void StartCapture()
    {
        var name = _name.AsSpan(0, _nameLength);
        _capture = _nameTooLong ? null
            : name.SequenceEqual("usage"u8) ? _usage
            : name.SequenceEqual("model"u8) ? _model
            : null;
        if (_capture is not null)
        {
            // A later duplicate wins, as in the readers.
            _capture.Clear();
            _captureTooLong = false;
        }
    }

    private void EndCapture()
    {
        if (_capture is not null && _captureTooLong)
        {
            _capture.Clear();
        }

        _capture = null;
    }

    /// <summary>Bytes of the current member name, or of a value being kept; anything else is only walked past.</summary>
    private void Keep(ReadOnlySpan<byte> bytes)
    {
        if (_capturingName)
        {
            if (_nameLength + bytes.Length > MaxNameBytes)
            {
                _nameTooLong = true;
            }
            else
            {
                bytes.CopyTo(_name.AsSpan(_nameLength));
                _nameLength += bytes.Length;
            }

            return;
        }

        if (_capture is null || _captureTooLong)
        {
            return;
        }

        if (_capture.Length + bytes.Length > MaxValueBytes)
        {
            _captureTooLong = true;
            return;
        }

        _capture.Append(bytes);
    }
}
