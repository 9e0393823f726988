namespace MeterAgent.Attestation.Merkle;

/// <summary>
/// Read access to the stored hashes of complete (perfect) subtrees. The hash at <c>level</c> l and <c>index</c> i is
/// MTH(D[i·2^l : (i+1)·2^l]); level 0 holds leaf hashes. Such a node never changes once the tree covers it, which is
/// what lets a store persist it and tiles (levels 0, 8, 16, …) serve it forever.
/// </summary>
public interface IHashReader
{
    /// <summary>
    /// Fills <paramref name="destination"/> (a whole number of 32-byte hashes) with consecutive nodes of
    /// <paramref name="level"/> starting at <paramref name="index"/>. Throws if any of them is not stored.
    /// </summary>
    void ReadHashes(int level, long index, Span<byte> destination);
}
