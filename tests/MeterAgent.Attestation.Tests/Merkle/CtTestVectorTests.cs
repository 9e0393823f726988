using MeterAgent.Attestation.Merkle;

namespace MeterAgent.Attestation.Tests.Merkle;

public sealed class CtTestVectorTests
{
    [Fact]
    public void Leaf_hashes_match_the_published_ones()
    {
        Span<byte> hash = stackalloc byte[32];
        for (var i = 0; i < CtTestVectors.Leaves.Length; i++)
        {
            MerkleHashing.HashLeaf(CtTestVectors.Leaves[i], hash);
            Assert.Equal(CtTestVectors.LeafHashes[i], Convert.ToHexStringLower(hash));
        }
    }

    [Fact]
    public void Roots_for_sizes_0_to_8_match_the_published_ones()
    {
        var log = CtTestVectors.LogOf(8);
        var root = new byte[32];
        for (var size = 0; size <= 8; size++)
        {
            log.RootHash(size, root);
            Assert.Equal(CtTestVectors.Roots[size], Convert.ToHexStringLower(root));
        }
    }

    [Fact]
    public void Inclusion_proofs_match_and_verify()
    {
        var log = CtTestVectors.LogOf(8);
        foreach (var (index, size, hashes) in CtTestVectors.InclusionProofs)
        {
            var expected = CtTestVectors.Concat(hashes);
            Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(log.InclusionProof(index, size)));
            var leaf = Convert.FromHexString(CtTestVectors.LeafHashes[index]);
            var root = Convert.FromHexString(CtTestVectors.Roots[size]);
            Assert.Equal(ProofResult.Valid, InclusionProof.Verify(index, size, leaf, expected, root));
        }
    }

    [Fact]
    public void Consistency_proofs_match_and_verify()
    {
        var log = CtTestVectors.LogOf(8);
        foreach (var (oldSize, newSize, hashes) in CtTestVectors.ConsistencyProofs)
        {
            var expected = CtTestVectors.Concat(hashes);
            Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(log.ConsistencyProof(oldSize, newSize)));
            var oldRoot = Convert.FromHexString(CtTestVectors.Roots[oldSize]);
            var newRoot = Convert.FromHexString(CtTestVectors.Roots[newSize]);
            Assert.Equal(ProofResult.Valid, ConsistencyProof.Verify(oldSize, newSize, oldRoot, newRoot, expected));
        }
    }

    [Fact]
    public void The_empty_tree_root_is_sha256_of_nothing()
    {
        Assert.Equal(CtTestVectors.Roots[0], Convert.ToHexStringLower(MerkleHashing.EmptyRoot));
        Assert.Equal(CtTestVectors.Roots[0], Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(ReadOnlySpan<byte>.Empty)));
    }
}
