using System.Text.Json;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>
/// A forward-only walk over one event's (or body's) JSON that notes where the members metering needs are and skips the
/// rest. The root walk reads every byte, so it also validates the whole document: the readers act only once it is
/// done, and a malformed event changes nothing (as when it failed to parse into a JsonDocument).
/// Offsets are kept relative to the whole data so that a noted value can be opened later.
/// </summary>
internal ref struct JsonCursor
{
    private readonly int _origin;
    private Utf8JsonReader _reader;

    // The current member name as written, kept so that each Take is a plain byte comparison (ValueTextEquals re-checks
    // the token and escaping on every call, and a walk asks several names of every member).
    private ReadOnlySpan<byte> _name;
    private bool _nameEscaped;

    private JsonCursor(ReadOnlySpan<byte> json, int origin)
    {
        _reader = new Utf8JsonReader(json);
        _origin = origin;
    }

    public readonly JsonTokenType TokenType => _reader.TokenType;

    /// <summary>Starts at the root value. Not an object: it is skipped (validated) and <paramref name="isObject"/> is false.</summary>
    /// <exception cref="JsonException">No JSON value, or not a valid one.</exception>
    public static JsonCursor Root(ReadOnlySpan<byte> data, out bool isObject)
    {
        var cursor = new JsonCursor(data, 0);
        if (!cursor._reader.Read())
        {
            throw new JsonException("The data holds no JSON value.");
        }

        isObject = cursor._reader.TokenType == JsonTokenType.StartObject;
        if (!isObject)
        {
            cursor._reader.Skip();
            cursor.End();
        }

        return cursor;
    }

    /// <summary>Opens an object or array noted by an earlier walk (already validated), positioned on its first token.</summary>
    public static JsonCursor Open(ReadOnlySpan<byte> data, JsonRef container)
    {
        var cursor = new JsonCursor(container.Raw(data), container.Start);
        cursor._reader.Read();
        return cursor;
    }

    /// <summary>After the root object's last member: anything but whitespace after it makes the data malformed.</summary>
    /// <exception cref="JsonException">Trailing content.</exception>
    public void End()
    {
        if (_reader.Read())
        {
            throw new JsonException("Unexpected content after the JSON value.");
        }
    }

    /// <summary>Moves to the next member name of the current object; false at its end.</summary>
    public bool NextMember()
    {
        if (!_reader.Read() || _reader.TokenType != JsonTokenType.PropertyName)
        {
            return false;
        }

        _name = _reader.ValueSpan;
        _nameEscaped = _reader.ValueIsEscaped;
        return true;
    }

    /// <summary>Moves to the next element of the current array; false at its end.</summary>
    public bool NextElement() => _reader.Read() && _reader.TokenType != JsonTokenType.EndArray;

    /// <summary>On a member name: when it is <paramref name="name"/>, notes its value in <paramref name="slot"/> (a later duplicate wins, as in JsonDocument) and moves past it.</summary>
    public bool Take(ReadOnlySpan<byte> name, ref JsonRef slot)
    {
        if (!NameIs(name))
        {
            return false;
        }

        _reader.Read();
        slot = Note();
        return true;
    }

    /// <summary>On a member name: whether it is <paramref name="name"/>, to walk its value in place rather than note it.</summary>
    public readonly bool NameIs(ReadOnlySpan<byte> name) =>
        _nameEscaped ? _reader.ValueTextEquals(name) : _name.SequenceEqual(name);

    /// <summary>On a member name: moves onto its value and returns the value's kind (walk it, or <see cref="Skip"/> it).</summary>
    public JsonTokenType ReadValue()
    {
        _reader.Read();
        return _reader.TokenType;
    }

    /// <summary>On a member name: skips its value. On a value: skips it. Returns true so it can end a chain of <see cref="Take"/>.</summary>
    public bool Skip()
    {
        _reader.Skip();
        return true;
    }

    /// <summary>On a value (an array element): notes it and moves past it.</summary>
    public JsonRef Note()
    {
        var start = (int)_reader.TokenStartIndex;
        var kind = _reader.TokenType;
        switch (kind)
        {
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                _reader.Skip();
                return new JsonRef(_origin + start, (int)_reader.BytesConsumed - start, kind, false);
            case JsonTokenType.String:
                return new JsonRef(_origin + start, _reader.ValueSpan.Length + 2, kind, _reader.ValueIsEscaped);
            default:
                return new JsonRef(_origin + start, _reader.ValueSpan.Length, kind, false);
        }
    }
}
