using System.Numerics;
using MeterAgent.Attestation.Merkle;

namespace MeterAgent.Attestation.Tiles;

/// <summary>
/// The client side of tlog-tiles: recompute a tree's root from its tiles, to compare with a checkpoint's root.
/// </summary>
public static class TiledRoot
{
    /// <summary>
    /// Computes the root of the tree of <paramref name="size"/> from <paramref name="tiles"/>, the bytes of
    /// <see cref="TileLayout.RootTiles"/>(size) in that order. Each may be the partial tile or, where that was
    /// already replaced, the full tile at the same index (its first hashes are the partial tile's).
    /// </summary>
    public static TiledRootResult TryCompute(long size, ReadOnlySpan<ReadOnlyMemory<byte>> tiles, Span<byte> root)
    {
        if (root.Length != Sha256Hash.Size)
        {
            throw new ArgumentException($"A root is {Sha256Hash.Size} bytes.", nameof(root));
        }

        if (size < 0)
        {
            return TiledRootResult.SizeOutOfRange;
        }

        var expected = TileLayout.RootTiles(size);
        if (tiles.Length != expected.Length)
        {
            return TiledRootResult.WrongTileCount;
        }

        if (size == 0)
        {
            MerkleHashing.EmptyRoot.CopyTo(root);
            return TiledRootResult.Computed;
        }

        // The root's perfect subtrees, right to left, are the power-of-two runs of each partial tile's hashes, level 0
        // first: fold them into the root from the right as RFC 9162's recursion does.
        Span<byte> node = stackalloc byte[Sha256Hash.Size];
        var first = true;
        for (var t = 0; t < expected.Length; t++)
        {
            var bytes = tiles[t].Span;
            if (bytes.Length != expected[t].ByteLength && bytes.Length != TileLayout.FullTileBytes)
            {
                return TiledRootResult.WrongTileLength;
            }

            var remaining = (uint)expected[t].Width;
            var end = expected[t].Width;
            while (remaining != 0)
            {
                var run = 1 << BitOperations.TrailingZeroCount(remaining);
                end -= run;
                var hashes = bytes.Slice(end * Sha256Hash.Size, run * Sha256Hash.Size);
                MerkleHashing.RootOfHashes(hashes, first ? root : node);
                if (!first)
                {
                    MerkleHashing.HashChildren(node, root, root);
                }

                first = false;
                remaining &= remaining - 1;
            }
        }

        return TiledRootResult.Computed;
    }
}
