using System.Security.Cryptography;

namespace MeterAgent.Attestation.Merkle;

/// <summary>Verification of a consistency proof, RFC 9162 §2.1.4.2.</summary>
public static class ConsistencyProof
{
    /// <summary>
    /// Checks that the tree of <paramref name="oldSize"/> with root <paramref name="oldRoot"/> is a prefix of the
    /// tree of <paramref name="newSize"/> with root <paramref name="newRoot"/>.
    /// </summary>
    /// <remarks>
    /// RFC 9162 defines the proof for 0 &lt; old &lt; new. For old = new the proof is empty and the roots must be equal;
    /// for old = 0 it is empty and the old root must be the empty tree's (SHA-256 of nothing), which is fixed.
    /// </remarks>
    public static ProofResult Verify(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, ReadOnlySpan<byte> proof)
    {
        if (oldSize < 0 || newSize < 0 || oldSize > newSize)
        {
            return ProofResult.SizeOutOfRange;
        }

        if (oldRoot.Length != Sha256Hash.Size || newRoot.Length != Sha256Hash.Size)
        {
            return ProofResult.WrongHashLength;
        }

        if (oldSize == 0 || oldSize == newSize)
        {
            if (!proof.IsEmpty)
            {
                return ProofResult.WrongProofLength;
            }

            var expectedOld = oldSize == 0 ? MerkleHashing.EmptyRoot : newRoot;
            return CryptographicOperations.FixedTimeEquals(oldRoot, expectedOld) ? ProofResult.Valid : ProofResult.OldRootMismatch;
        }

        if (proof.Length % Sha256Hash.Size != 0
            || proof.Length / Sha256Hash.Size != TreeMath.ConsistencyProofCount((ulong)oldSize, (ulong)newSize))
        {
            return ProofResult.WrongProofLength;
        }

        var fn = (ulong)(oldSize - 1);
        var sn = (ulong)(newSize - 1);
        // An old size that is a power of two is one perfect subtree whose hash is the old root itself: the proof
        // omits it, and the path starts from it.
        var seed = (fn & (fn + 1)) == 0 ? oldRoot : proof[..Sha256Hash.Size];
        var rest = (fn & (fn + 1)) == 0 ? proof : proof[Sha256Hash.Size..];

        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        Span<byte> oldComputed = stackalloc byte[Sha256Hash.Size];
        Span<byte> newComputed = stackalloc byte[Sha256Hash.Size];
        seed.CopyTo(oldComputed);
        seed.CopyTo(newComputed);
        for (var offset = 0; offset < rest.Length; offset += Sha256Hash.Size)
        {
            var node = rest.Slice(offset, Sha256Hash.Size);
            if (sn == 0)
            {
                return ProofResult.WrongProofLength;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                MerkleHashing.HashChildren(node, oldComputed, oldComputed);
                MerkleHashing.HashChildren(node, newComputed, newComputed);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                MerkleHashing.HashChildren(newComputed, node, newComputed);
            }

            fn >>= 1;
            sn >>= 1;
        }

        if (sn != 0)
        {
            return ProofResult.WrongProofLength;
        }

        if (!CryptographicOperations.FixedTimeEquals(oldComputed, oldRoot))
        {
            return ProofResult.OldRootMismatch;
        }

        return CryptographicOperations.FixedTimeEquals(newComputed, newRoot) ? ProofResult.Valid : ProofResult.NewRootMismatch;
    }
}
