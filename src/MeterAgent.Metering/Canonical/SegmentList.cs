using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using MeterAgent.Metering.Responses.Readers;
using MeterAgent.Metering.Tokenization;

namespace MeterAgent.Metering.Canonical;

/// <summary>
/// Collects canonical text segments (docs/canonical-text.md) and whether some input could not be re-tokenized. A value,
/// passed by reference while a request's input or a response's output is collected: a few segments each, in one array
/// made only when a segment is kept.
/// </summary>
/// <remarks>
/// Given a tokenizer, it counts short text as it is added (<see cref="CountedTokens"/>) instead of keeping it: a small
/// request's text then costs no string at all, and its count no later pass. Only while the text counted so far stays
/// within the budget it is given, so counting here stays a few microseconds; a segment that does not fit is kept whole,
/// for its caller to count later. The reference count is <see cref="CountedTokens"/> plus the count of
/// <see cref="Segments"/> either way: a count is the sum of its segments' counts.
/// </remarks>
internal struct SegmentList
{
    /// <summary>
    /// Text a request's input or a response's output counts as it is collected, at most: about 250 tokens, a few
    /// microseconds. A small exchange's text is then counted with no string; a larger one's rest is counted later.
    /// </summary>
    public const int CountNowChars = 1024;

    // Short values are unescaped on the stack before they are counted.
    private const int StackChars = 256;

    private readonly ReferenceTokenizer? _counter;
    private int _countNowChars;
    private string[]? _items;
    private int _count;

    /// <summary>Keeps every segment (what the canonical-text tests read); so does <c>default</c>.</summary>
    public SegmentList()
    {
    }

    /// <param name="counter">counts text as it is added; null keeps every segment</param>
    /// <param name="countNowChars">how many characters of text it counts so, at most; the rest is kept</param>
    public SegmentList(ReferenceTokenizer? counter, int countNowChars = CountNowChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(countNowChars);
        _counter = counter;
        _countNowChars = countNowChars;
    }

    public bool HasNonText { get; private set; }

    /// <summary>Reference tokens of the text counted as it was added, and so not among <see cref="Segments"/>.</summary>
    public long CountedTokens { get; private set; }

    /// <summary>The segments kept, in order: every one, or with a tokenizer those it did not count.</summary>
    public readonly IReadOnlyList<string> Segments =>
        // Typed as the list: an array converts to an ArraySegment too, which would be boxed even when empty.
        _count == 0 ? (IReadOnlyList<string>)Array.Empty<string>() : new ArraySegment<string>(_items!, 0, _count);

    /// <summary>Empty strings count 0 tokens, so they are left out.</summary>
    public void Add(string? text)
    {
        if (!string.IsNullOrEmpty(text) && !TryCountNow(text))
        {
            Keep(text);
        }
    }

    /// <inheritdoc cref="Add(string?)"/>
    public void Add(ReadOnlySpan<char> text)
    {
        if (!text.IsEmpty && !TryCountNow(text))
        {
            Keep(new string(text));
        }
    }

    /// <summary>An accumulated response field; nothing for none.</summary>
    public void AddAccumulated(TextAccumulator? text)
    {
        if (text is not null)
        {
            Add(text.Chars);
        }
    }

    /// <summary>A JSON string value, unescaped; anything else is ignored.</summary>
    public void AddString(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return;
        }

        // Written without escapes (nearly all text), its UTF-8 bytes are the text: decoded and counted with no string.
        // The parser does not check the bytes inside strings: invalid UTF-8 goes the string's way, whose decoding refuses it.
        var utf8 = JsonMarshal.GetRawUtf8Value(value)[1..^1];
        if (_counter is not null && utf8.Length <= _countNowChars && !utf8.Contains((byte)'\\') && Utf8.IsValid(utf8))
        {
            AddUtf8(utf8);
            return;
        }

        Add(value.GetString());
    }

    public void AddStringMember(JsonElement owner, ReadOnlySpan<byte> name)
    {
        if (owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(name, out var value))
        {
            AddString(value);
        }
    }

    /// <summary>The member's value exactly as written in the body (JSON schemas, tool inputs).</summary>
    public void AddRawMember(JsonElement owner, ReadOnlySpan<byte> name)
    {
        if (owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(name, out var value)
            && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
        {
            var raw = JsonMarshal.GetRawUtf8Value(value);
            if (_counter is not null && raw.Length <= _countNowChars && Utf8.IsValid(raw))
            {
                AddUtf8(raw);
                return;
            }

            Add(value.GetRawText());
        }
    }

    public void MarkNonText() => HasNonText = true;

    /// <summary>Valid UTF-8 of at most <see cref="_countNowChars"/> bytes (so as many characters at most), counted now.</summary>
    private void AddUtf8(ReadOnlySpan<byte> utf8)
    {
        char[]? rented = null;
        var buffer = utf8.Length <= StackChars ? stackalloc char[StackChars] : (rented = ArrayPool<char>.Shared.Rent(utf8.Length));
        try
        {
            Add(buffer[..Encoding.UTF8.GetChars(utf8, buffer)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private bool TryCountNow(ReadOnlySpan<char> text)
    {
        if (_counter is null || text.Length > _countNowChars)
        {
            return false;
        }

        _countNowChars -= text.Length;
        CountedTokens += _counter.CountTokens(text);
        return true;
    }

    private void Keep(string text)
    {
        if (_items is null || _count == _items.Length)
        {
            Array.Resize(ref _items, Math.Max(4, _count * 2));
        }

        _items[_count++] = text;
    }
}
