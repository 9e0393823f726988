using System.Text.Json;

namespace MeterAgent.Metering.Canonical;

/// <summary>Collects canonical text segments (docs/canonical-text.md) and whether some input could not be re-tokenized.</summary>
internal sealed class SegmentList
{
    private readonly List<string> _segments = new(8);

    public bool HasNonText { get; private set; }

    public IReadOnlyList<string> Segments => _segments;

    /// <summary>Empty strings count 0 tokens, so they are left out.</summary>
    public void Add(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            _segments.Add(text);
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
