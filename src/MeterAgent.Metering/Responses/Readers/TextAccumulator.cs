using System.Buffers;
using System.Text;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>
/// Concatenated deltas of one text field, unescaped straight from the event's bytes into pooled chars: no string per
/// delta, one string for the whole field when the response completes. Return the chars with <see cref="Dispose"/>.
/// Every char kept is taken from the response's <see cref="TextBudget"/>; a value that does not fit is dropped whole.
/// </summary>
internal sealed class TextAccumulator(TextBudget budget) : IDisposable
{
    private char[] _chars = [];
    private int _length;

    /// <summary>
    /// Appends a JSON string value; anything else is ignored. Returns true when the value had text (a first token),
    /// also when the budget was spent and the text was not kept.
    /// </summary>
    public bool Append(ReadOnlySpan<byte> data, JsonRef value)
    {
        if (!value.IsNonEmptyString)
        {
            return false;
        }

        var utf8 = value.StringBytes(data);
        var most = JsonText.MaxChars(utf8);
        if (!budget.TryTake(most))
        {
            return true;
        }

        EnsureFree(most);
        var written = JsonText.Unescape(utf8, value.Escaped, _chars.AsSpan(_length));
        _length += written;
        budget.Give(most - written);
        return true;
    }

    /// <summary>Replaces the text with a JSON string value (or with nothing, for any other kind).</summary>
    public void Set(ReadOnlySpan<byte> data, JsonRef value)
    {
        budget.Give(_length);
        _length = 0;
        Append(data, value);
    }

    /// <summary>Replaces the text with the value exactly as written (a tool call's input object).</summary>
    public void SetRaw(ReadOnlySpan<byte> data, JsonRef value)
    {
        budget.Give(_length);
        _length = 0;
        var raw = value.Raw(data);
        if (!budget.TryTake(raw.Length))
        {
            return;
        }

        EnsureFree(raw.Length);
        _length += Encoding.UTF8.GetChars(raw, _chars.AsSpan(_length));
        budget.Give(raw.Length - _length);
    }

    /// <summary>The text so far (valid until the next change or <see cref="Dispose"/>).</summary>
    public ReadOnlySpan<char> Chars => _chars.AsSpan(0, _length);

    public override string ToString() => _length == 0 ? string.Empty : new string(_chars, 0, _length);

    public void Dispose()
    {
        budget.Give(_length);
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
