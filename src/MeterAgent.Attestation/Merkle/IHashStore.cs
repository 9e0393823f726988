namespace MeterAgent.Attestation.Merkle;

/// <summary>An append-only store of the tree's complete subtree hashes, one leaf at a time.</summary>
public interface IHashStore : IHashReader
{
    /// <summary>Leaves stored so far.</summary>
    long Size { get; }

    /// <summary>
    /// Stores leaf <paramref name="index"/> (always <see cref="Size"/>) and the nodes it completes, in one step so a
    /// persistent store can make it atomic: <paramref name="hashes"/> holds the leaf hash, then the node at level 1,
    /// 2, … whose right edge this leaf closes, i.e. the node at level l has index <c>index &gt;&gt; l</c>.
    /// </summary>
    void Append(long index, ReadOnlySpan<byte> hashes);
}
