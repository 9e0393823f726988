using System.Diagnostics;
using System.Numerics;

namespace MeterAgent.Attestation.Merkle;

/// <summary>
/// An append-only RFC 9162 Merkle tree over a hash store. It keeps no state of its own, so every tree size the store
/// has reached stays answerable (roots and proofs for any n ≤ <see cref="Size"/>). One writer at a time.
/// </summary>
public sealed class MerkleLog(IHashStore store)
{
    private readonly IHashStore _store = store ?? throw new ArgumentNullException(nameof(store));

    /// <summary>
    /// The longest entry: tlog-tiles bundles prefix each entry with a uint16 length, and a leaf can never be taken back
    /// out of the tree, so an entry that could not be served is refused before it is hashed in.
    /// </summary>
    public const int MaxEntryLength = ushort.MaxValue;

    public long Size => _store.Size;

    /// <summary>Appends an entry (hashed as a leaf) and returns its index.</summary>
    public long Append(ReadOnlySpan<byte> entry)
    {
        if (entry.Length > MaxEntryLength)
        {
            throw new ArgumentException($"An entry is at most {MaxEntryLength} bytes, not {entry.Length}.", nameof(entry));
        }

        Span<byte> leaf = stackalloc byte[Sha256Hash.Size];
        MerkleHashing.HashLeaf(entry, leaf);
        return AppendLeafHash(leaf);
    }

    /// <summary>Appends a leaf already hashed with <see cref="MerkleHashing.HashLeaf"/> and returns its index.</summary>
    public long AppendLeafHash(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != Sha256Hash.Size)
        {
            throw new ArgumentException($"A leaf hash is {Sha256Hash.Size} bytes.", nameof(leafHash));
        }

        var index = _store.Size;
        // Each trailing one bit of the index is a left sibling now joined: the leaf closes that many perfect subtrees.
        var completed = BitOperations.TrailingZeroCount(~(ulong)index);
        Span<byte> hashes = stackalloc byte[(completed + 1) * Sha256Hash.Size];
        Span<byte> left = stackalloc byte[Sha256Hash.Size];
        leafHash.CopyTo(hashes);
        for (var level = 1; level <= completed; level++)
        {
            _store.ReadHashes(level - 1, (index >> (level - 1)) - 1, left);
            MerkleHashing.HashChildren(left, Hash(hashes, level - 1), hashes.Slice(level * Sha256Hash.Size, Sha256Hash.Size));
        }

        _store.Append(index, hashes);
        return index;
    }

    /// <summary>MTH(D[0:size]) for any size up to the current one.</summary>
    public void RootHash(long size, Span<byte> destination)
    {
        RequireSize(size, nameof(size));
        RangeHash(0, size, destination);
    }

    /// <summary>
    /// PATH(index, D[0:size]) of RFC 9162 §2.1.3.1: the sibling hashes from the leaf up, concatenated.
    /// </summary>
    public byte[] InclusionProof(long index, long size)
    {
        RequireSize(size, nameof(size));
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);

        // The recursion meets the siblings from the top down; the proof lists them from the bottom up, so fill backwards.
        var slot = TreeMath.InclusionProofCount((ulong)index, (ulong)size);
        var proof = new byte[slot * Sha256Hash.Size];
        long lo = 0, hi = size;
        while (hi - lo > 1)
        {
            var k = (long)TreeMath.LargestPowerOfTwoBelow((ulong)(hi - lo));
            slot--;
            if (index < lo + k)
            {
                RangeHash(lo + k, hi, Hash(proof, slot));
                hi = lo + k;
            }
            else
            {
                RangeHash(lo, lo + k, Hash(proof, slot));
                lo += k;
            }
        }

        Debug.Assert(slot == 0, "The proof count formula and the recursion disagree.");
        return proof;
    }

    /// <summary>
    /// PROOF(oldSize, D[0:newSize]) of RFC 9162 §2.1.4.1, concatenated; empty when the old tree is empty or equal.
    /// </summary>
    public byte[] ConsistencyProof(long oldSize, long newSize)
    {
        RequireSize(newSize, nameof(newSize));
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        if (oldSize == 0 || oldSize == newSize)
        {
            return [];
        }

        var slot = TreeMath.ConsistencyProofCount((ulong)oldSize, (ulong)newSize);
        var proof = new byte[slot * Sha256Hash.Size];
        long lo = 0, hi = newSize;
        // SUBPROOF's flag b: true while the old tree's root is the left part of the new one and so already known.
        var oldRootKnown = true;
        while (hi != oldSize)
        {
            var k = (long)TreeMath.LargestPowerOfTwoBelow((ulong)(hi - lo));
            slot--;
            if (oldSize - lo <= k)
            {
                RangeHash(lo + k, hi, Hash(proof, slot));
                hi = lo + k;
            }
            else
            {
                RangeHash(lo, lo + k, Hash(proof, slot));
                lo += k;
                oldRootKnown = false;
            }
        }

        if (!oldRootKnown)
        {
            slot--;
            RangeHash(lo, hi, Hash(proof, slot));
        }

        Debug.Assert(slot == 0, "The proof count formula and the recursion disagree.");
        return proof;
    }

    /// <summary>
    /// MTH(D[lo:hi]) where lo is a multiple of the largest power of two ≤ hi − lo, as every range of the RFC's
    /// recursion is: then the range is its perfect subtrees, largest first, folded from the right.
    /// </summary>
    private void RangeHash(long lo, long hi, Span<byte> destination)
    {
        var remaining = (ulong)(hi - lo);
        if (remaining == 0)
        {
            MerkleHashing.EmptyRoot.CopyTo(destination);
            return;
        }

        Span<byte> node = stackalloc byte[Sha256Hash.Size];
        var end = hi;
        var first = true;
        while (remaining != 0)
        {
            var level = BitOperations.TrailingZeroCount(remaining);
            end -= 1L << level;
            if (first)
            {
                _store.ReadHashes(level, end >> level, destination);
                first = false;
            }
            else
            {
                _store.ReadHashes(level, end >> level, node);
                MerkleHashing.HashChildren(node, destination, destination);
            }

            remaining &= remaining - 1;
        }

        Debug.Assert(end == lo, "The range was not aligned.");
    }

    private void RequireSize(long size, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, _store.Size, name);
    }

    private static Span<byte> Hash(Span<byte> hashes, int slot) => hashes.Slice(slot * Sha256Hash.Size, Sha256Hash.Size);
}
