using System.Text;
using MeterAgent.Attestation.Merkle;

namespace MeterAgent.Attestation.Tests.Merkle;

/// <summary>
/// Every tree of 1..64 leaves, every proof in it: generated proofs equal the RFC's recursive definition, verify, and
/// stop verifying under any corruption a verifier must notice.
/// </summary>
public sealed class MerkleLogPropertyTests
{
    private const int MaxSize = 64;

    private static readonly byte[][] Entries = [.. Enumerable.Range(0, MaxSize).Select(i => Encoding.UTF8.GetBytes(new string((char)('a' + (i % 26)), i % 7) + i))];
    private static readonly MerkleLog Log = BuildLog();
    private static readonly byte[][] Roots = [.. Enumerable.Range(0, MaxSize + 1).Select(RootOf)];

    [Fact]
    public void Roots_equal_the_rfc_definition_for_every_size()
    {
        for (var size = 0; size <= MaxSize; size++)
        {
            Assert.Equal(ReferenceTree.Mth(Entries, 0, size), Roots[size]);
        }
    }

    [Fact]
    public void A_log_answers_for_every_earlier_size_as_it_grows()
    {
        var log = new MerkleLog(new InMemoryHashStore());
        var root = new byte[32];
        for (var size = 1; size <= MaxSize; size++)
        {
            log.Append(Entries[size - 1]);
            for (var earlier = 0; earlier <= size; earlier++)
            {
                log.RootHash(earlier, root);
                Assert.Equal(Roots[earlier], root);
            }
        }
    }

    [Fact]
    public void Every_inclusion_proof_equals_the_rfc_path_and_verifies()
    {
        for (var size = 1; size <= MaxSize; size++)
        {
            for (var index = 0; index < size; index++)
            {
                var proof = Log.InclusionProof(index, size);
                Assert.Equal(Concat(ReferenceTree.Path(index, Entries, 0, size)), proof);
                Assert.Equal(ProofResult.Valid, InclusionProof.Verify(index, size, LeafHash(index), proof, Roots[size]));
            }
        }
    }

    [Fact]
    public void Every_consistency_proof_equals_the_rfc_subproof_and_verifies()
    {
        for (var newSize = 1; newSize <= MaxSize; newSize++)
        {
            for (var oldSize = 0; oldSize <= newSize; oldSize++)
            {
                var proof = Log.ConsistencyProof(oldSize, newSize);
                var expected = oldSize == 0 ? [] : Concat(ReferenceTree.SubProof(oldSize, Entries, 0, newSize, true));
                Assert.Equal(expected, proof);
                Assert.Equal(ProofResult.Valid, ConsistencyProof.Verify(oldSize, newSize, Roots[oldSize], Roots[newSize], proof));
            }
        }
    }

    [Fact]
    public void A_flipped_bit_anywhere_in_an_inclusion_proof_fails()
    {
        for (var size = 1; size <= MaxSize; size++)
        {
            for (var index = 0; index < size; index++)
            {
                var proof = Log.InclusionProof(index, size);
                foreach (var bit in BitsToFlip(proof.Length, size))
                {
                    proof[bit / 8] ^= (byte)(1 << (bit % 8));
                    Assert.Equal(ProofResult.RootMismatch, InclusionProof.Verify(index, size, LeafHash(index), proof, Roots[size]));
                    proof[bit / 8] ^= (byte)(1 << (bit % 8));
                }
            }
        }
    }

    [Fact]
    public void A_flipped_bit_anywhere_in_a_consistency_proof_fails()
    {
        for (var newSize = 2; newSize <= MaxSize; newSize++)
        {
            for (var oldSize = 1; oldSize < newSize; oldSize++)
            {
                var proof = Log.ConsistencyProof(oldSize, newSize);
                foreach (var bit in BitsToFlip(proof.Length, newSize))
                {
                    proof[bit / 8] ^= (byte)(1 << (bit % 8));
                    Assert.NotEqual(ProofResult.Valid, ConsistencyProof.Verify(oldSize, newSize, Roots[oldSize], Roots[newSize], proof));
                    proof[bit / 8] ^= (byte)(1 << (bit % 8));
                }
            }
        }
    }

    [Fact]
    public void An_inclusion_proof_fails_for_any_other_index_leaf_or_size()
    {
        for (var size = 1; size <= MaxSize; size++)
        {
            for (var index = 0; index < size; index++)
            {
                var proof = Log.InclusionProof(index, size);
                var leaf = LeafHash(index);
                for (var other = 0; other < size; other++)
                {
                    if (other != index)
                    {
                        Assert.NotEqual(ProofResult.Valid, InclusionProof.Verify(other, size, leaf, proof, Roots[size]));
                        Assert.NotEqual(ProofResult.Valid, InclusionProof.Verify(index, size, LeafHash(other), proof, Roots[size]));
                    }
                }

                // A tree size is only ever claimed together with its root (a checkpoint signs both), so a wrong size
                // arrives with that size's root.
                for (var otherSize = index + 1; otherSize <= MaxSize; otherSize++)
                {
                    if (otherSize != size)
                    {
                        Assert.NotEqual(ProofResult.Valid, InclusionProof.Verify(index, otherSize, leaf, proof, Roots[otherSize]));
                    }
                }

                Assert.Equal(ProofResult.IndexOutOfRange, InclusionProof.Verify(size, size, leaf, proof, Roots[size]));
                Assert.Equal(ProofResult.IndexOutOfRange, InclusionProof.Verify(-1, size, leaf, proof, Roots[size]));
                Assert.Equal(ProofResult.WrongProofLength, InclusionProof.Verify(index, size, leaf, [.. proof, .. leaf], Roots[size]));
                Assert.Equal(ProofResult.WrongProofLength, InclusionProof.Verify(index, size, leaf, [.. proof, 0], Roots[size]));
                if (proof.Length > 0)
                {
                    Assert.Equal(ProofResult.WrongProofLength, InclusionProof.Verify(index, size, leaf, proof.AsSpan(32), Roots[size]));
                    Assert.Equal(ProofResult.WrongProofLength, InclusionProof.Verify(index, size, leaf, proof.AsSpan(1), Roots[size]));
                }

                Assert.Equal(ProofResult.RootMismatch, InclusionProof.Verify(index, size, leaf, proof, Roots[size - 1]));
            }
        }
    }

    [Fact]
    public void A_consistency_proof_fails_for_any_other_sizes_or_roots()
    {
        for (var newSize = 2; newSize <= MaxSize; newSize++)
        {
            for (var oldSize = 1; oldSize < newSize; oldSize++)
            {
                var proof = Log.ConsistencyProof(oldSize, newSize);
                for (var otherOld = 0; otherOld <= newSize; otherOld++)
                {
                    if (otherOld != oldSize)
                    {
                        Assert.NotEqual(ProofResult.Valid, ConsistencyProof.Verify(otherOld, newSize, Roots[otherOld], Roots[newSize], proof));
                    }
                }

                for (var otherNew = oldSize; otherNew <= MaxSize; otherNew++)
                {
                    if (otherNew != newSize)
                    {
                        Assert.NotEqual(ProofResult.Valid, ConsistencyProof.Verify(oldSize, otherNew, Roots[oldSize], Roots[otherNew], proof));
                    }
                }

                Assert.NotEqual(ProofResult.Valid, ConsistencyProof.Verify(oldSize, newSize, Roots[newSize], Roots[oldSize], proof));
                // With an old size that is a power of two the old root seeds the path, so a wrong one shows as a new-root mismatch.
                Assert.NotEqual(ProofResult.Valid, ConsistencyProof.Verify(oldSize, newSize, Roots[oldSize - 1], Roots[newSize], proof));
                Assert.NotEqual(ProofResult.Valid, ConsistencyProof.Verify(oldSize, newSize, Roots[oldSize], Roots[newSize - 1], proof));
                Assert.Equal(ProofResult.SizeOutOfRange, ConsistencyProof.Verify(newSize, oldSize, Roots[newSize], Roots[oldSize], proof));
                Assert.Equal(ProofResult.WrongProofLength, ConsistencyProof.Verify(oldSize, newSize, Roots[oldSize], Roots[newSize], proof.AsSpan(32)));
                Assert.Equal(ProofResult.WrongProofLength, ConsistencyProof.Verify(oldSize, newSize, Roots[oldSize], Roots[newSize], [.. proof, .. Roots[oldSize]]));
                Assert.Equal(ProofResult.WrongProofLength, ConsistencyProof.Verify(oldSize, newSize, Roots[oldSize], Roots[newSize], [.. Roots[oldSize], .. proof]));
                Assert.Equal(ProofResult.WrongProofLength, ConsistencyProof.Verify(oldSize, newSize, Roots[oldSize], Roots[newSize], proof.AsSpan(1)));
            }
        }
    }

    [Fact]
    public void Equal_and_empty_old_sizes_take_an_empty_proof_and_matching_roots()
    {
        Assert.Equal(ProofResult.Valid, ConsistencyProof.Verify(0, 0, Roots[0], Roots[0], []));
        Assert.Equal(ProofResult.Valid, ConsistencyProof.Verify(0, 5, Roots[0], Roots[5], []));
        Assert.Equal(ProofResult.Valid, ConsistencyProof.Verify(5, 5, Roots[5], Roots[5], []));
        Assert.Equal(ProofResult.OldRootMismatch, ConsistencyProof.Verify(5, 5, Roots[4], Roots[5], []));
        Assert.Equal(ProofResult.OldRootMismatch, ConsistencyProof.Verify(0, 5, Roots[1], Roots[5], []));
        Assert.Equal(ProofResult.WrongProofLength, ConsistencyProof.Verify(5, 5, Roots[5], Roots[5], Roots[5]));
        Assert.Equal(ProofResult.WrongProofLength, ConsistencyProof.Verify(1, 2, Roots[1], Roots[2], []));
    }

    [Fact]
    public void Malformed_input_is_an_answer_not_an_exception()
    {
        var leaf = LeafHash(0);
        Assert.Equal(ProofResult.IndexOutOfRange, InclusionProof.Verify(0, 0, leaf, [], Roots[0]));
        Assert.Equal(ProofResult.SizeOutOfRange, InclusionProof.Verify(0, -1, leaf, [], Roots[0]));
        Assert.Equal(ProofResult.WrongHashLength, InclusionProof.Verify(0, 1, leaf.AsSpan(1), [], Roots[1]));
        Assert.Equal(ProofResult.WrongHashLength, InclusionProof.Verify(0, 1, leaf, [], []));
        Assert.Equal(ProofResult.Valid, InclusionProof.Verify(0, 1, leaf, [], Roots[1]));
        Assert.Equal(ProofResult.SizeOutOfRange, ConsistencyProof.Verify(-1, 1, Roots[0], Roots[1], []));
        Assert.Equal(ProofResult.WrongHashLength, ConsistencyProof.Verify(1, 2, Roots[1].AsSpan(2), Roots[2], Log.ConsistencyProof(1, 2)));
        Assert.Equal(ProofResult.WrongProofLength, InclusionProof.Verify(long.MaxValue - 1, long.MaxValue, leaf, [], Roots[1]));
        Assert.Equal(ProofResult.WrongProofLength, ConsistencyProof.Verify(long.MaxValue - 1, long.MaxValue, Roots[1], Roots[2], []));
    }

    [Fact]
    public void The_log_refuses_sizes_it_has_not_reached()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Log.RootHash(MaxSize + 1, new byte[32]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Log.InclusionProof(MaxSize, MaxSize));
        Assert.Throws<ArgumentOutOfRangeException>(() => Log.ConsistencyProof(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Log.ConsistencyProof(1, MaxSize + 1));
    }

    /// <summary>Every bit for small trees; above that, one bit in every byte (which bit varies), to bound the run time.</summary>
    private static IEnumerable<int> BitsToFlip(int proofBytes, int size)
    {
        for (var bit = 0; bit < proofBytes * 8; bit++)
        {
            if (size <= 16 || bit % 8 == (bit / 8) % 8)
            {
                yield return bit;
            }
        }
    }

    private static byte[] LeafHash(int index)
    {
        var hash = new byte[32];
        MerkleHashing.HashLeaf(Entries[index], hash);
        return hash;
    }

    private static byte[] Concat(List<byte[]> hashes) => [.. hashes.SelectMany(h => h)];

    private static MerkleLog BuildLog()
    {
        var log = new MerkleLog(new InMemoryHashStore());
        foreach (var entry in Entries)
        {
            log.Append(entry);
        }

        return log;
    }

    private static byte[] RootOf(int size)
    {
        var root = new byte[32];
        Log.RootHash(size, root);
        return root;
    }
}
