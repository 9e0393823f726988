using System.Buffers;
using System.Security.Cryptography;

namespace MeterAgent.Attestation.Merkle;

/// <summary>
/// RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing with SHA-256. The 0x00 and 0x01 prefixes keep a leaf from ever being
/// mistaken for an interior node (second-preimage resistance), so they are part of the format, not decoration.
/// </summary>
public static class MerkleHashing
{
    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    // Entries are small usage records; above this they are hashed from a pooled buffer rather than the stack.
    private const int StackLimit = 1024;

    /// <summary>MTH({}) = SHA-256 of the empty string: the root of the empty tree.</summary>
    public static ReadOnlySpan<byte> EmptyRoot =>
    [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
        0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
    ];

    /// <summary>SHA-256(0x00 ‖ entry).</summary>
    public static void HashLeaf(ReadOnlySpan<byte> entry, Span<byte> destination)
    {
        RequireHashSize(destination.Length, nameof(destination));
        var length = entry.Length + 1;
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            buffer[0] = LeafPrefix;
            entry.CopyTo(buffer[1..]);
            SHA256.HashData(buffer, destination);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>SHA-256(0x01 ‖ left ‖ right). The destination may overlap either input.</summary>
    public static void HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        RequireHashSize(left.Length, nameof(left));
        RequireHashSize(right.Length, nameof(right));
        RequireHashSize(destination.Length, nameof(destination));
        Span<byte> buffer = stackalloc byte[1 + (2 * Sha256Hash.Size)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Sha256Hash.Size)..]);
        SHA256.HashData(buffer, destination);
    }

    /// <summary>
    /// MTH of a sequence of already-hashed subtrees of equal size (concatenated 32-byte hashes), split as RFC 9162
    /// §2.1.1 splits leaves: a tile's hashes are the leaves of its subtree, so the same rule applies one level up.
    /// </summary>
    public static void RootOfHashes(ReadOnlySpan<byte> hashes, Span<byte> destination)
    {
        RequireHashSize(destination.Length, nameof(destination));
        if (hashes.Length % Sha256Hash.Size != 0)
        {
            throw new ArgumentException("Hashes are a whole number of 32-byte values.", nameof(hashes));
        }

        var count = hashes.Length / Sha256Hash.Size;
        if (count == 0)
        {
            EmptyRoot.CopyTo(destination);
            return;
        }

        RootOfNonEmpty(hashes, count, destination);
    }

    private static void RootOfNonEmpty(ReadOnlySpan<byte> hashes, int count, Span<byte> destination)
    {
        if (count == 1)
        {
            hashes[..Sha256Hash.Size].CopyTo(destination);
            return;
        }

        var k = (int)TreeMath.LargestPowerOfTwoBelow((ulong)count);
        Span<byte> left = stackalloc byte[Sha256Hash.Size];
        RootOfNonEmpty(hashes[..(k * Sha256Hash.Size)], k, left);
        RootOfNonEmpty(hashes[(k * Sha256Hash.Size)..], count - k, destination);
        HashChildren(left, destination, destination);
    }

    private static void RequireHashSize(int length, string name)
    {
        if (length != Sha256Hash.Size)
        {
            throw new ArgumentException($"A SHA-256 hash is {Sha256Hash.Size} bytes, not {length}.", name);
        }
    }
}
