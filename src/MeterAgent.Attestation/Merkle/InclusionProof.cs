using System.Security.Cryptography;

namespace MeterAgent.Attestation.Merkle;

/// <summary>Verification of an inclusion proof, RFC 9162 §2.1.3.2.</summary>
public static class InclusionProof
{
    /// <summary>
    /// Checks that <paramref name="leafHash"/> is leaf <paramref name="index"/> of the tree of <paramref name="size"/>
    /// whose root is <paramref name="root"/>; <paramref name="proof"/> is the concatenated path, leaf side first.
    /// </summary>
    public static ProofResult Verify(long index, long size, ReadOnlySpan<byte> leafHash, ReadOnlySpan<byte> proof, ReadOnlySpan<byte> root)
    {
        if (size < 0)
        {
            return ProofResult.SizeOutOfRange;
        }

        if (index < 0 || index >= size)
        {
            return ProofResult.IndexOutOfRange;
        }

        if (leafHash.Length != Sha256Hash.Size || root.Length != Sha256Hash.Size)
        {
            return ProofResult.WrongHashLength;
        }

        // Checking the count first turns a truncated or padded proof into its own answer, and bounds the loop below.
        if (proof.Length % Sha256Hash.Size != 0
            || proof.Length / Sha256Hash.Size != TreeMath.InclusionProofCount((ulong)index, (ulong)size))
        {
            return ProofResult.WrongProofLength;
        }

        Span<byte> computed = stackalloc byte[Sha256Hash.Size];
        leafHash.CopyTo(computed);
        var fn = (ulong)index;
        var sn = (ulong)(size - 1);
        for (var offset = 0; offset < proof.Length; offset += Sha256Hash.Size)
        {
            var sibling = proof.Slice(offset, Sha256Hash.Size);
            if (sn == 0)
            {
                return ProofResult.WrongProofLength;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHashing.HashChildren(sibling, computed, computed);
                // A right-edge node with no right sibling is promoted unchanged: skip the levels where that happens.
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHashing.HashChildren(computed, sibling, computed);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return ProofResult.WrongProofLength;
        }

        return CryptographicOperations.FixedTimeEquals(computed, root) ? ProofResult.Valid : ProofResult.RootMismatch;
    }
}
