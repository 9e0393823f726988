using System.Text.Json;

namespace MeterAgent.Metering.Canonical;

/// <summary>Tolerant member access: a wrong type reads as absent, because metering must never fail a request the upstream would take.</summary>
internal static class Json
{
    public static bool TryGet(JsonElement owner, ReadOnlySpan<byte> name, JsonValueKind kind, out JsonElement value)
    {
        if (owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(name, out value) && value.ValueKind == kind)
        {
            return true;
        }

        value = default;
        return false;
    }

    public static string? String(JsonElement owner, ReadOnlySpan<byte> name) =>
        TryGet(owner, name, JsonValueKind.String, out var value) ? value.GetString() : null;

    public static bool StringEquals(JsonElement owner, ReadOnlySpan<byte> name, ReadOnlySpan<byte> expected) =>
        TryGet(owner, name, JsonValueKind.String, out var value) && value.ValueEquals(expected);

    public static long Long(JsonElement owner, ReadOnlySpan<byte> name) =>
        TryGet(owner, name, JsonValueKind.Number, out var value) && value.TryGetInt64(out var number) ? number : 0;

    public static long? OptionalLong(JsonElement owner, ReadOnlySpan<byte> name) =>
        TryGet(owner, name, JsonValueKind.Number, out var value) && value.TryGetInt64(out var number) ? number : null;

    public static int Index(JsonElement owner, ReadOnlySpan<byte> name) =>
        TryGet(owner, name, JsonValueKind.Number, out var value) && value.TryGetInt32(out var number) ? number : 0;
}
