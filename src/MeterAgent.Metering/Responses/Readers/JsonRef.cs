using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace MeterAgent.Metering.Responses.Readers;

/// <summary>
/// Where one JSON value sits in an event's data (absolute offsets, so it can be read again after the walk that found
/// it). The default value is "absent": its kind is <see cref="JsonTokenType.None"/>, which no accessor accepts, so a
/// missing member and one of the wrong type read the same, as <c>Canonical.Json</c> does for elements.
/// </summary>
internal readonly record struct JsonRef(int Start, int Length, JsonTokenType Kind, bool Escaped)
{
    public bool IsObject => Kind == JsonTokenType.StartObject;

    public bool IsArray => Kind == JsonTokenType.StartArray;

    public bool IsString => Kind == JsonTokenType.String;

    /// <summary>A string's bytes between the quotes, still escaped when <see cref="Escaped"/>.</summary>
    public ReadOnlySpan<byte> StringBytes(ReadOnlySpan<byte> data) => data.Slice(Start + 1, Length - 2);

    /// <summary>The value exactly as written.</summary>
    public ReadOnlySpan<byte> Raw(ReadOnlySpan<byte> data) => data.Slice(Start, Length);

    public bool IsNonEmptyString => Kind == JsonTokenType.String && Length > 2;

    public bool StringEquals(ReadOnlySpan<byte> data, ReadOnlySpan<byte> expected)
    {
        if (Kind != JsonTokenType.String)
        {
            return false;
        }

        if (!Escaped)
        {
            return StringBytes(data).SequenceEqual(expected);
        }

        var reader = new Utf8JsonReader(Raw(data));
        reader.Read();
        return reader.ValueTextEquals(expected);
    }

    /// <summary>The unescaped string, or null for any other kind.</summary>
    public string? String(ReadOnlySpan<byte> data) => Kind == JsonTokenType.String ? JsonText.ToString(StringBytes(data), Escaped) : null;

    /// <summary>As <see cref="JsonElement.TryGetInt64"/>: an integer that fits, else nothing (1.0, 1e3 and overflow included).</summary>
    public long? OptionalLong(ReadOnlySpan<byte> data) =>
        Kind == JsonTokenType.Number && Utf8Parser.TryParse(Raw(data), out long value, out var consumed) && consumed == Length
            ? value
            : null;

    public long Long(ReadOnlySpan<byte> data) => OptionalLong(data) ?? 0;

    public int Index(ReadOnlySpan<byte> data) =>
        Kind == JsonTokenType.Number && Utf8Parser.TryParse(Raw(data), out int value, out var consumed) && consumed == Length
            ? value
            : 0;

    public string RawText(ReadOnlySpan<byte> data) => Encoding.UTF8.GetString(Raw(data));
}
