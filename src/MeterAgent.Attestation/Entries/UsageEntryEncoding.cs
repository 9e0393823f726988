using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace MeterAgent.Attestation.Entries;

/// <summary>
/// The canonical bytes of a <see cref="UsageEntry"/>, version 1 (docs/attestation.md, "Entries"). One encoding per
/// entry, so a leaf hash is reproducible by anyone from the same fields: fields in a fixed order, no choice of
/// whitespace, escaping or number form. Strings are a big-endian uint16 byte length then UTF-8; integers big-endian
/// int64 (int32 for the contract version); an optional value is a presence byte (0 absent, 1 present) then the value;
/// a boolean is one byte 0 or 1.
/// </summary>
public static class UsageEntryEncoding
{
    /// <summary>The first byte of every entry: a later encoding gets a new number, and old leaves keep theirs.</summary>
    public const byte Version = 1;

    // The buffer an entry is written into, one per thread and reused: an entry is encoded for every closed record, and
    // a growing stream with a byte array per string cost about a kilobyte of garbage each time. One that grew past
    // RetainedBytes (a record with very long strings) is not kept.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    private const int RetainedBytes = 4096;

    public static byte[] Encode(in UsageEntry entry)
    {
        var buffer = Rent();
        Encode(entry, buffer);
        var bytes = buffer.WrittenSpan.ToArray();
        Return(buffer);
        return bytes;
    }

    /// <summary>
    /// Hands the entry's bytes to <paramref name="use"/> from this thread's buffer, with no array of their own: for a
    /// caller that needs them only for the call (the store binds them to its insert, which copies them).
    /// </summary>
    public static void Encode<TArg>(in UsageEntry entry, TArg arg, ReadOnlySpanAction<byte, TArg> use)
    {
        ArgumentNullException.ThrowIfNull(use);
        var buffer = Rent();
        Encode(entry, buffer);
        use(buffer.WrittenSpan, arg);
        Return(buffer);
    }

    // Taken from the thread while in use, so an encode inside a callback gets a buffer of its own.
    private static ArrayBufferWriter<byte> Rent()
    {
        var buffer = t_buffer ?? new ArrayBufferWriter<byte>(512);
        t_buffer = null;
        buffer.ResetWrittenCount();
        return buffer;
    }

    private static void Return(ArrayBufferWriter<byte> buffer)
    {
        if (buffer.Capacity <= RetainedBytes)
        {
            t_buffer = buffer;
        }
    }

    /// <summary>Appends the entry's bytes to <paramref name="output"/>. On an exception part of an entry may have been written.</summary>
    public static void Encode(in UsageEntry entry, ArrayBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var writer = new Writer(output);
        writer.Byte(Version);
        writer.String(entry.UsageId);
        writer.String(entry.AccountId);
        writer.String(entry.Surface);
        writer.OptionalString(entry.RequestedModel);
        writer.OptionalString(entry.ServedModel);
        writer.Int64(entry.StartedAtMicros);
        writer.Int64(entry.EndedAtMicros);
        writer.String(entry.Status);
        writer.OptionalInt64(entry.NativeInputTokens);
        writer.OptionalInt64(entry.NativeCachedInputTokens);
        writer.OptionalInt64(entry.NativeCacheWriteTokens);
        writer.OptionalInt64(entry.NativeOutputTokens);
        writer.OptionalInt64(entry.NativeReasoningTokens);
        writer.Int64(entry.ReferenceInputTokens);
        writer.Int64(entry.ReferenceOutputTokens);
        writer.OptionalString(entry.ReferenceTokenizer);
        writer.OptionalString(entry.ContractId);
        writer.OptionalInt32(entry.ContractVersion);
        writer.OptionalInt64(entry.UnitsMicro);
        writer.Int64(entry.RedeemedMicro);
        writer.Int64(entry.OverageMicro);
        writer.OptionalString(entry.UnitsBasis);
        writer.String(entry.Flags);
        writer.Byte(entry.NonTextInput ? (byte)1 : (byte)0);
    }

    /// <summary>Reads an entry back; throws <see cref="FormatException"/> naming what is wrong (verifiers report it).</summary>
    public static UsageEntry Decode(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes);
        var version = reader.Byte();
        if (version != Version)
        {
            throw new FormatException($"entry version {version} is not {Version}");
        }

        var entry = new UsageEntry
        {
            UsageId = reader.String(),
            AccountId = reader.String(),
            Surface = reader.String(),
            RequestedModel = reader.OptionalString(),
            ServedModel = reader.OptionalString(),
            StartedAtMicros = reader.Int64(),
            EndedAtMicros = reader.Int64(),
            Status = reader.String(),
            NativeInputTokens = reader.OptionalInt64(),
            NativeCachedInputTokens = reader.OptionalInt64(),
            NativeCacheWriteTokens = reader.OptionalInt64(),
            NativeOutputTokens = reader.OptionalInt64(),
            NativeReasoningTokens = reader.OptionalInt64(),
            ReferenceInputTokens = reader.Int64(),
            ReferenceOutputTokens = reader.Int64(),
            ReferenceTokenizer = reader.OptionalString(),
            ContractId = reader.OptionalString(),
            ContractVersion = reader.OptionalInt32(),
            UnitsMicro = reader.OptionalInt64(),
            RedeemedMicro = reader.Int64(),
            OverageMicro = reader.Int64(),
            UnitsBasis = reader.OptionalString(),
            Flags = reader.String(),
            NonTextInput = reader.Boolean(),
        };
        reader.End();
        return entry;
    }

    private readonly struct Writer(ArrayBufferWriter<byte> buffer)
    {
        public void Byte(byte value)
        {
            buffer.GetSpan(1)[0] = value;
            buffer.Advance(1);
        }

        public void String(string value)
        {
            ArgumentNullException.ThrowIfNull(value);
            var length = Encoding.UTF8.GetByteCount(value);
            if (length > ushort.MaxValue)
            {
                throw new ArgumentException($"A string of {length} UTF-8 bytes does not fit an entry (at most {ushort.MaxValue}).", nameof(value));
            }

            var span = buffer.GetSpan(2 + length);
            BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)length);
            Encoding.UTF8.GetBytes(value, span[2..]);
            buffer.Advance(2 + length);
        }

        public void OptionalString(string? value)
        {
            Byte(value is null ? (byte)0 : (byte)1);
            if (value is not null)
            {
                String(value);
            }
        }

        public void Int64(long value)
        {
            BinaryPrimitives.WriteInt64BigEndian(buffer.GetSpan(8), value);
            buffer.Advance(8);
        }

        public void OptionalInt64(long? value)
        {
            Byte(value is null ? (byte)0 : (byte)1);
            if (value is { } present)
            {
                Int64(present);
            }
        }

        public void OptionalInt32(int? value)
        {
            Byte(value is null ? (byte)0 : (byte)1);
            if (value is { } present)
            {
                BinaryPrimitives.WriteInt32BigEndian(buffer.GetSpan(4), present);
                buffer.Advance(4);
            }
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _position;

        public byte Byte() => Take(1)[0];

        public bool Boolean() => Byte() switch
        {
            0 => false,
            1 => true,
            var other => throw new FormatException($"byte {other} at offset {_position - 1} is not a boolean (0 or 1)"),
        };

        public string String()
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(Take(2));
            return Encoding.UTF8.GetString(Take(length));
        }

        public string? OptionalString() => Present() ? String() : null;

        public long Int64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

        public long? OptionalInt64() => Present() ? Int64() : null;

        public int? OptionalInt32() => Present() ? BinaryPrimitives.ReadInt32BigEndian(Take(4)) : null;

        public readonly void End()
        {
            if (_position != _bytes.Length)
            {
                throw new FormatException($"{_bytes.Length - _position} bytes after the entry's last field");
            }
        }

        private bool Present() => Boolean();

        private ReadOnlySpan<byte> Take(int count)
        {
            if (_bytes.Length - _position < count)
            {
                throw new FormatException($"the entry ends at offset {_bytes.Length}, inside a field that needs {count} bytes at {_position}");
            }

            var slice = _bytes.Slice(_position, count);
            _position += count;
            return slice;
        }
    }
}
