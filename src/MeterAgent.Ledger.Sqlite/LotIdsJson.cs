using System.Buffers;
using System.Text;
using System.Text.Json;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// A usage record's lot ids as a JSON array of strings in one TEXT column: any SQLite tool reads it (json_each), and
/// a record's few lots need no table of their own. Written and read by hand so no reflection serializer is involved.
/// </summary>
internal static class LotIdsJson
{
    public const string Empty = "[]";

    public static string Write(IReadOnlyList<string> lotIds)
    {
        if (lotIds.Count == 0)
        {
            return Empty;
        }

        var buffer = new ArrayBufferWriter<byte>(lotIds.Count * 24);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var lotId in lotIds)
            {
                writer.WriteStringValue(lotId);
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string[] Read(string json)
    {
        if (json == Empty)
        {
            return [];
        }

        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new FormatException("lot_ids is not a JSON array.");
        }

        var lotIds = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            lotIds.Add(reader.GetString() ?? throw new FormatException("lot_ids holds a null."));
        }

        return [.. lotIds];
    }
}
