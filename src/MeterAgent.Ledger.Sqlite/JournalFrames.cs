using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The open journal's file format. A segment is <c>&lt;seq&gt;.seg</c> (16 decimal digits) in the journal folder: an
/// 8-byte header (<c>MAJ1</c> and the format version, 1, as a little-endian u32), then frames. A frame is its payload's
/// length (u32 LE), the CRC32C of those 4 length bytes followed by the payload (u32 LE), then the payload: one open
/// record as <see cref="UsageJournalCodec"/> packs it. A reader stops at the first frame that is short, too long or
/// fails its CRC: that is the tail a crash tore, and nothing after it was ever acknowledged to a caller.
/// </summary>
internal static class JournalFrames
{
    public const int SegmentHeaderBytes = 8;

    public const int FrameHeaderBytes = 8;

    /// <summary>Far above any record (a few hundred bytes): a length past it is garbage, not a frame.</summary>
    public const int MaxPayloadBytes = 1 << 20;

    private const uint Magic = 0x314A414D; // "MAJ1" little-endian
    private const uint FormatVersion = 1;

    public const string SegmentExtension = ".seg";

    public static string FolderFor(string databasePath) => databasePath + ".journal";

    public static string SegmentPath(string folder, long seq) =>
        Path.Combine(folder, seq.ToString("D16", CultureInfo.InvariantCulture) + SegmentExtension);

    public static void WriteSegmentHeader(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], FormatVersion);
    }

    /// <summary>Writes the frame of <paramref name="payload"/>; returns its length.</summary>
    public static int WriteFrame(Span<byte> destination, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        payload.CopyTo(destination[FrameHeaderBytes..]);
        var crc = Crc32C(destination[..4], payload);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], crc);
        return FrameHeaderBytes + payload.Length;
    }

    /// <summary>The segments in <paramref name="folder"/>, oldest first (a foreign file is skipped).</summary>
    public static List<(long Seq, string Path)> ListSegments(string folder)
    {
        var segments = new List<(long, string)>();
        if (!Directory.Exists(folder))
        {
            return segments;
        }

        foreach (var path in Directory.EnumerateFiles(folder, "*" + SegmentExtension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                segments.Add((seq, path));
            }
        }

        segments.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return segments;
    }

    /// <summary>
    /// Hands every intact frame's payload to <paramref name="onFrame"/>, in order; returns whether the segment ended
    /// cleanly (false: a torn or corrupt tail was ignored, or the header was not this format's).
    /// </summary>
    public static bool ReadSegment(string path, Action<ReadOnlyMemory<byte>> onFrame)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < SegmentHeaderBytes
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)) != FormatVersion)
        {
            return bytes.Length == 0;
        }

        var position = SegmentHeaderBytes;
        while (position < bytes.Length)
        {
            var rest = bytes.AsSpan(position);
            if (rest.Length < FrameHeaderBytes)
            {
                return false;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(rest);
            if (length == 0 || length > MaxPayloadBytes || length > rest.Length - FrameHeaderBytes)
            {
                return false;
            }

            var payload = rest.Slice(FrameHeaderBytes, (int)length);
            if (Crc32C(rest[..4], payload) != BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]))
            {
                return false;
            }

            onFrame(bytes.AsMemory(position + FrameHeaderBytes, (int)length));
            position += FrameHeaderBytes + (int)length;
        }

        return true;
    }

    /// <summary>CRC32C (Castagnoli) of <paramref name="first"/> then <paramref name="second"/>, with the CPU's CRC32 instruction where it has one.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) => ~Update(Update(~0u, first), second);

    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
