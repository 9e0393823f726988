using System.Text.Json;

namespace MeterAgent.Metering.Canonical;

/// <summary>
/// Collects canonical text segments (docs/canonical-text.md) and whether some input could not be re-tokenized. It is
/// itself the list it hands out (<see cref="Segments"/>): a request's input and a response's output are a few segments
/// each, so one array sized for them, with no list object around it.
/// </summary>
internal sealed class SegmentList : IReadOnlyList<string>
{
    private string[] _items = [];
    private int _count;

    public bool HasNonText { get; private set; }

    public IReadOnlyList<string> Segments => this;

    public int Count => _count;

    public string this[int index] => (uint)index < (uint)_count ? _items[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<string> GetEnumerator()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return _items[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Empty strings count 0 tokens, so they are left out.</summary>
    public void Add(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            if (_count == _items.Length)
            {
                Array.Resize(ref _items, Math.Max(4, _count * 2));
            }

            _items[_count++] = text;
        }
    }

    /// <summary>A JSON string value, unescaped; anything else is ignored.</summary>
    public void AddString(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            Add(value.GetString());
        }
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
            Add(value.GetRawText());
        }
    }

    public void MarkNonText() => HasNonText = true;
}
