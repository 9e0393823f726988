using System.Numerics;

namespace MeterAgent.Attestation.Merkle;

/// <summary>The bit arithmetic RFC 9162 states recursively, done on indices so no proof needs recursion.</summary>
internal static class TreeMath
{
    /// <summary>The k of RFC 9162 §2.1.1: the largest power of two strictly smaller than n (n ≥ 2).</summary>
    public static ulong LargestPowerOfTwoBelow(ulong n) => 1UL << (63 - BitOperations.LeadingZeroCount(n - 1));

    /// <summary>Hashes in an inclusion proof for leaf <paramref name="index"/> of a tree of <paramref name="size"/>.</summary>
    /// <remarks>
    /// Above the highest bit where index and size − 1 differ, the path runs along the right edge and only the
    /// left siblings that exist (the set bits of the index there) appear; below it every level has a sibling.
    /// </remarks>
    public static int InclusionProofCount(ulong index, ulong size)
    {
        var inner = 64 - BitOperations.LeadingZeroCount(index ^ (size - 1));
        return inner + BitOperations.PopCount(index >> inner);
    }

    /// <summary>Hashes in a consistency proof from <paramref name="oldSize"/> to <paramref name="newSize"/>, 0 &lt; old &lt; new.</summary>
    /// <remarks>
    /// The old tree's last perfect subtree sits at level tz(old); from there it is an inclusion proof of that node,
    /// plus the node itself unless the old tree is that single subtree (old a power of two: its root is known).
    /// </remarks>
    public static int ConsistencyProofCount(ulong oldSize, ulong newSize)
    {
        var level = BitOperations.TrailingZeroCount(oldSize);
        var node = (oldSize - 1) >> level;
        var last = (newSize - 1) >> level;
        var inner = 64 - BitOperations.LeadingZeroCount(node ^ last);
        var seed = node == 0 ? 0 : 1;
        return seed + inner + BitOperations.PopCount(node >> inner);
    }
}
