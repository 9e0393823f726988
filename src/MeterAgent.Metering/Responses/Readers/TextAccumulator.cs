using System.Buffers;
using System.Text;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>
/// Concatenated deltas of one text field, unescaped straight from the event's bytes into pooled chars: no string per
/// delta, one string for the whole field when the response completes. Return the chars with <see cref="Dispose"/>.
/// </summary>
internal sealed class TextAccumulator : IDisposable
{
    private char[] _chars = [];
    private int _length;

    /// <summary>Appends a JSON string value; anything else is ignored. Returns true when it added text (a first token).</summary>
    public bool Append(ReadOnlySpan<byte> data, JsonRef value)
    {
        if (!value.IsNonEmptyString)
        {
            return false;
        }

        var utf8 = value.StringBytes(data);
        EnsureFree(JsonText.MaxChars(utf8));
        _length += JsonText.Unescape(utf8, value.Escaped, _chars.AsSpan(_length));
        return true;
    }

    /// <summary>Replaces the text with a JSON string value (or with nothing, for any other kind).</summary>
    public void Set(ReadOnlySpan<byte> data, JsonRef value)
    {
        _length = 0;
        Append(data, value);
    }

    /// <summary>Replaces the text with the value exactly as written (a tool call's input object).</summary>
    public void SetRaw(ReadOnlySpan<byte> data, JsonRef value)
    {
        _length = 0;
        var raw = value.Raw(data);
        EnsureFree(raw.Length);
        _length += Encoding.UTF8.GetChars(raw, _chars.AsSpan(_length));
    }

    public override string ToString() => _length == 0 ? string.Empty : new string(_chars, 0, _length);

    public void Dispose()
    {
        if (_chars.Length > 0)
        {
            ArrayPool<char>.Shared.Return(_chars);
        }

        _chars = [];
        _length = 0;
    }

    private void EnsureFree(int count)
    {
        var needed = _length + count;
        if (needed <= _chars.Length)
        {
            return;
        }

        var larger = ArrayPool<char>.Shared.Rent(Math.Max(needed, Math.Max(64, _chars.Length * 2)));
        _chars.AsSpan(0, _length).CopyTo(larger);
        if (_chars.Length > 0)
        {
            ArrayPool<char>.Shared.Return(_chars);
        }

        _chars = larger;
    }
}
