using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using MeterAgent.Attestation.Merkle;

namespace MeterAgent.Attestation.Tiles;

/// <summary>
/// A tlog-tiles entry bundle: the entries behind one level-0 tile, each as a big-endian uint16 length and its bytes.
/// </summary>
public static class EntryBundle
{
    /// <summary>The uint16 length prefix caps an entry at 65,535 bytes.</summary>
    public const int MaxEntryLength = MerkleLog.MaxEntryLength;

    public static void Append(IBufferWriter<byte> bundle, ReadOnlySpan<byte> entry)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        if (entry.Length > MaxEntryLength)
        {
            throw new ArgumentException($"An entry in a bundle is at most {MaxEntryLength} bytes, not {entry.Length}.", nameof(entry));
        }

        var span = bundle.GetSpan(2 + entry.Length);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)entry.Length);
        entry.CopyTo(span[2..]);
        bundle.Advance(2 + entry.Length);
    }

    /// <summary>
    /// Whether <paramref name="bundle"/> holds exactly the entries whose leaf hashes are the level-0 tile
    /// <paramref name="tile"/>: what a client checks before trusting entries it fetched.
    /// </summary>
    public static EntryBundleCheck Check(ReadOnlySpan<byte> bundle, ReadOnlySpan<byte> tile)
    {
        if (tile.Length % Sha256Hash.Size != 0)
        {
            return EntryBundleCheck.CountMismatch;
        }

        var reader = new EntryBundleReader(bundle);
        Span<byte> leaf = stackalloc byte[Sha256Hash.Size];
        var count = 0;
        while (reader.TryReadNext(out var entry))
        {
            if ((count + 1) * Sha256Hash.Size > tile.Length)
            {
                return EntryBundleCheck.CountMismatch;
            }

            MerkleHashing.HashLeaf(entry, leaf);
            if (!CryptographicOperations.FixedTimeEquals(leaf, tile.Slice(count * Sha256Hash.Size, Sha256Hash.Size)))
            {
                return EntryBundleCheck.HashMismatch;
            }

            count++;
        }

        if (!reader.IsComplete)
        {
            return EntryBundleCheck.Malformed;
        }

        return count * Sha256Hash.Size == tile.Length ? EntryBundleCheck.Matches : EntryBundleCheck.CountMismatch;
    }
}
