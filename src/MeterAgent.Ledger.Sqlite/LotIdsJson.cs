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

        // One buffer and writer per thread, reset each time: every credited close writes this.
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        writer.WriteStartArray();
        foreach (var lotId in lotIds)
        {
            writer.WriteStringValue(lotId);
        }

        writer.WriteEndArray();
        writer.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

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
