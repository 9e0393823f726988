using System.Globalization;
using System.Text.Json;

namespace MeterAgent.Verify.Verifying;

/// <summary>Reads the statements list, <c>{"statements":[{"sequence", "contract_id", ...}], "next"}</c>.</summary>
internal static class StatementListJson
{
    public static (IReadOnlyList<StatementListing> Statements, long? Next) Read(byte[] json, string where)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var rows = document.RootElement.GetProperty("statements").EnumerateArray().Select(Row).ToList();
            var next = document.RootElement.TryGetProperty("next", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt64() : (long?)null;
            return (rows, next);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new LogSourceException($"{where} is not a statements list: {ex.Message}", ex);
        }
    }

    private static StatementListing Row(JsonElement row) => new(
        row.GetProperty("sequence").GetInt64(),
        Text(row, "contract_id"),
        Time(row, "interval_start"),
        Time(row, "interval_end"),
        Number(row, "amends"),
        Number(row, "tree_size"),
        Text(row, "digest"),
        Listed: true);

    private static string? Text(JsonElement row, string name) =>
        row.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Number(JsonElement row, string name) =>
        row.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    private static DateTimeOffset? Time(JsonElement row, string name) =>
        Text(row, name) is { } text ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null;
}
