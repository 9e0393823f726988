using MeterAgent.Attestation;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Tiles;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Log;

/// <summary>
/// The Merkle tree over the usage log's entries, kept in memory and caught up from the store: the store is the truth
/// (an entry is written with its record's close), the tree is derived from it in order. It answers roots, proofs and
/// tiles for any size it has reached; what is published is the checkpoint publisher's business.
/// </summary>
/// <remarks>
/// Two hashes per entry in memory (about 64 MB for a million entries). One catch-up at a time reads the store; the
/// hashes are guarded by a short lock of their own, so readers (tiles, proofs) never wait for a store read.
/// </remarks>
internal sealed class UsageLogTree : IConsistencyProver
{
    private const int Batch = 10_000;

    private readonly IUsageLog _entries;
    private readonly InMemoryHashStore _hashes = new();
    private readonly MerkleLog _tree;
    private readonly SemaphoreSlim _catchUp = new(1, 1);
    private readonly Lock _lock = new();

    public UsageLogTree(IUsageLog entries)
    {
        _entries = entries;
        _tree = new MerkleLog(_hashes);
    }

    /// <summary>Entries in the tree so far.</summary>
    public long Size
    {
        get
        {
            lock (_lock)
            {
                return _hashes.Size;
            }
        }
    }

    /// <summary>Appends every committed entry not in the tree yet, in index order; returns the size.</summary>
    public async Task<long> CatchUpAsync(CancellationToken cancellationToken)
    {
        await _catchUp.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                var batch = await _entries.ReadAsync(Size, Batch, cancellationToken);
                lock (_lock)
                {
                    foreach (var entry in batch)
                    {
                        _tree.Append(entry);
                    }
                }

                if (batch.Count < Batch)
                {
                    return Size;
                }
            }
        }
        finally
        {
            _catchUp.Release();
        }
    }

    /// <summary>MTH(D[0:size]) for a size the tree has reached.</summary>
    public byte[] RootHash(long size)
    {
        var root = new byte[Sha256Hash.Size];
        lock (_lock)
        {
            _tree.RootHash(size, root);
        }

        return root;
    }

    /// <summary>The inclusion path of leaf <paramref name="index"/> in the tree of <paramref name="size"/>, leaf side first.</summary>
    public IReadOnlyList<byte[]> InclusionProof(long index, long size)
    {
        lock (_lock)
        {
            return Split(_tree.InclusionProof(index, size));
        }
    }

    /// <summary>The RFC 9162 consistency proof from <paramref name="fromSize"/> to <paramref name="toSize"/>.</summary>
    public IReadOnlyList<byte[]> ConsistencyProof(long fromSize, long toSize)
    {
        lock (_lock)
        {
            return Split(_tree.ConsistencyProof(fromSize, toSize));
        }
    }

    /// <summary>For a witness: the same proof, for sizes the tree has reached.</summary>
    public Task<IReadOnlyList<byte[]>> ProveAsync(long fromSize, long toSize, CancellationToken cancellationToken) =>
        Task.FromResult(ConsistencyProof(fromSize, toSize));

    /// <summary>A hash tile's bytes; every hash in it must be in the tree (the caller checks the tile is published).</summary>
    public byte[] Tile(TileCoordinate tile)
    {
        lock (_lock)
        {
            return TileBuilder.Build(_hashes, tile);
        }
    }

    private static byte[][] Split(byte[] proof)
    {
        var hashes = new byte[proof.Length / Sha256Hash.Size][];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = proof.AsSpan(i * Sha256Hash.Size, Sha256Hash.Size).ToArray();
        }

        return hashes;
    }
}
