using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// A usage record as its write-ahead journal row holds it: every field but the status (an open record's is
/// <see cref="UsageStatus.Open"/>) packed in one BLOB, so the open is one narrow append instead of a 34-column row and
/// its indexes. Times are unix microseconds, as in <c>usage_records</c>. Layout (version 1): a version byte, then the
/// fields in <see cref="UsageRecordSql.Columns"/> order; a string is a varint of its UTF-8 length + 1 (0 for null) and
/// its bytes, a nullable number a presence byte and 8 bytes little-endian, a number 8 bytes, a flag one byte.
/// </summary>
internal static class UsageJournalCodec
{
    private const byte Version = 1;

    /// <summary>
    /// Packs the record. A record its close could not insert (a NOT NULL column left null) is refused here as the
    /// insert would refuse it, so no open is journalled that recovery could not turn into a row.
    /// </summary>
    public static void Encode(UsageRecord record, ArrayBufferWriter<byte> buffer)
    {
        Require(record.Id, "id");
        Require(record.AccountId, "account_id");
        Require(record.KeyId, "key_id");
        Require(record.Surface, "surface");
        Require(record.Quality, "quality");
        Require(record.Flags, "flags");
        Require(record.LotIds, "lot_ids");
        buffer.ResetWrittenCount();
        var w = new Writer(buffer);
        w.Byte(Version);
        w.String(record.Id);
        w.String(record.AccountId);
        w.String(record.KeyId);
        w.String(record.Surface);
        w.String(record.RouteId);
        w.String(record.ClusterId);
        w.String(record.RequestedModel);
        w.String(record.ServedModel);
        w.Flag(record.Stream);
        w.Int64(SqliteTime.ToUnixMicroseconds(record.StartedAt));
        w.Int64(record.FirstTokenAt is { } firstToken ? SqliteTime.ToUnixMicroseconds(firstToken) : null);
        w.Int64(record.EndedAt is { } ended ? SqliteTime.ToUnixMicroseconds(ended) : null);
        w.Int64(record.HttpStatus);
        w.String(record.Error);
        w.Flag(record.NativeReported);
        w.Int64(record.NativeInputTokens);
        w.Int64(record.NativeCachedInputTokens);
        w.Int64(record.NativeCacheWriteTokens);
        w.Int64(record.NativeOutputTokens);
        w.Int64(record.NativeReasoningTokens);
        w.Int64(record.ReferenceInputTokens);
        w.Int64(record.ReferenceOutputTokens);
        w.String(record.Quality);
        w.Flag(record.NonTextInput);
        w.String(record.ReferenceTokenizer);
        w.String(record.ContractId);
        w.Int64(record.ContractVersion);
        w.Int64(record.UnitsMicro);
        w.Int64(record.RedeemedMicro);
        w.Int64(record.OverageMicro);
        w.Count(record.LotIds.Count);
        foreach (var lotId in record.LotIds)
        {
            w.String(lotId);
        }

        w.String(record.UnitsBasis);
        w.String(record.Flags);
    }

    private static void Require(object? value, string column)
    {
        if (value is null)
        {
            throw new Microsoft.Data.Sqlite.SqliteException(
                $"SQLite Error 19: 'NOT NULL constraint failed: usage_records.{column}'.", 19, 1299);
        }
    }

    /// <summary>The record as it was opened (status <see cref="UsageStatus.Open"/>).</summary>
    public static UsageRecord Decode(ReadOnlySpan<byte> bytes)
    {
        var r = new Reader(bytes);
        var version = r.Byte();
        if (version != Version)
        {
            throw new InvalidDataException($"Unknown usage journal record version {version}.");
        }

        var record = new UsageRecord
        {
            Id = r.String()!,
            AccountId = r.String()!,
            KeyId = r.String()!,
            Surface = r.String()!,
            RouteId = r.String(),
            ClusterId = r.String(),
            RequestedModel = r.String(),
            ServedModel = r.String(),
            Stream = r.Flag(),
            StartedAt = SqliteTime.FromUnixMicroseconds(r.Int64()),
            FirstTokenAt = r.NullableInt64() is { } firstToken ? SqliteTime.FromUnixMicroseconds(firstToken) : null,
            EndedAt = r.NullableInt64() is { } ended ? SqliteTime.FromUnixMicroseconds(ended) : null,
            Status = UsageStatus.Open,
            HttpStatus = r.NullableInt64() is { } http ? checked((int)http) : null,
            Error = r.String(),
            NativeReported = r.Flag(),
            NativeInputTokens = r.NullableInt64(),
            NativeCachedInputTokens = r.NullableInt64(),
            NativeCacheWriteTokens = r.NullableInt64(),
            NativeOutputTokens = r.NullableInt64(),
            NativeReasoningTokens = r.NullableInt64(),
            ReferenceInputTokens = r.Int64(),
            ReferenceOutputTokens = r.Int64(),
            Quality = r.String()!,
            NonTextInput = r.Flag(),
            ReferenceTokenizer = r.String(),
            ContractId = r.String(),
            ContractVersion = r.NullableInt64() is { } contractVersion ? checked((int)contractVersion) : null,
            UnitsMicro = r.NullableInt64(),
            RedeemedMicro = r.NullableInt64(),
            OverageMicro = r.NullableInt64(),
        };

        var lots = new string[r.Count()];
        for (var i = 0; i < lots.Length; i++)
        {
            lots[i] = r.String()!;
        }

        record.LotIds = lots;
        record.UnitsBasis = r.String();
        record.Flags = r.String()!;
        return record;
    }

    private readonly ref struct Writer(ArrayBufferWriter<byte> buffer)
    {
        public void Byte(byte value)
        {
            buffer.GetSpan(1)[0] = value;
            buffer.Advance(1);
        }

        public void Flag(bool value) => Byte(value ? (byte)1 : (byte)0);

        public void Int64(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(buffer.GetSpan(8), value);
            buffer.Advance(8);
        }

        public void Int64(long? value)
        {
            Flag(value.HasValue);
            if (value is { } v)
            {
                Int64(v);
            }
        }

        public void Count(int value) => VarUInt((uint)value);

        public void String(string? value)
        {
            if (value is null)
            {
                VarUInt(0);
                return;
            }

            var length = Encoding.UTF8.GetByteCount(value);
            VarUInt((uint)length + 1);
            var written = Encoding.UTF8.GetBytes(value, buffer.GetSpan(length));
            buffer.Advance(written);
        }

        private void VarUInt(uint value)
        {
            while (value >= 0x80)
            {
                Byte((byte)(value | 0x80));
                value >>= 7;
            }

            Byte((byte)value);
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _position;

        public byte Byte() => _bytes[_position++];

        public bool Flag() => Byte() != 0;

        public long Int64()
        {
            var value = BinaryPrimitives.ReadInt64LittleEndian(_bytes[_position..]);
            _position += 8;
            return value;
        }

        public long? NullableInt64() => Flag() ? Int64() : null;

        public int Count() => checked((int)VarUInt());

        public string? String()
        {
            var prefix = VarUInt();
            if (prefix == 0)
            {
                return null;
            }

            var length = checked((int)(prefix - 1));
            var value = Encoding.UTF8.GetString(_bytes.Slice(_position, length));
            _position += length;
            return value;
        }

        private uint VarUInt()
        {
            uint value = 0;
            var shift = 0;
            byte b;
            do
            {
                b = Byte();
                value |= (uint)(b & 0x7F) << shift;
                shift += 7;
            }
            while ((b & 0x80) != 0);

            return value;
        }
    }
}
