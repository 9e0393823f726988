using System.Globalization;
using System.Security.Cryptography;
using MeterAgent.Attestation;
using MeterAgent.Attestation.Checkpoints;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Tiles;

namespace MeterAgent.Verify.Verifying;

/// <summary>
/// The log's tree rebuilt from every entry bundle: each entry must hash to its leaf in the level-0 tile, the root of all
/// of them must be the checkpoint's, and every higher tile must hold the rebuilt tree's hashes. What the statements need
/// of the entries is kept: every leaf's contract and start time, and the whole entry of each leaf a statement counts.
/// </summary>
internal sealed class VerifiedTree
{
    private readonly MerkleLog _tree;

    public VerifiedTree(MerkleLog tree, string?[] contracts, long[] startedAt, Dictionary<long, UsageEntry> counted, int tiles)
    {
        _tree = tree;
        Contracts = contracts;
        StartedAt = startedAt;
        Counted = counted;
        Tiles = tiles;
    }

    public long Size => _tree.Size;

    /// <summary>Per leaf: its entry's contract, null for a record without one.</summary>
    public string?[] Contracts { get; }

    /// <summary>Per leaf: its entry's start time, Unix microseconds.</summary>
    public long[] StartedAt { get; }

    /// <summary>The decoded entries of the leaves some statement lists.</summary>
    public Dictionary<long, UsageEntry> Counted { get; }

    /// <summary>Hash tiles checked.</summary>
    public int Tiles { get; }

    /// <summary>The root at any size up to the checkpoint's, recomputed (a statement's size, the saved checkpoint's).</summary>
    public byte[] Root(long size)
    {
        var root = new byte[Sha256Hash.Size];
        _tree.RootHash(size, root);
        return root;
    }
}

internal static class TreeCheck
{
    public static async Task<VerifiedTree> RunAsync(
        ILogSource source, Checkpoint checkpoint, IReadOnlySet<long> counted, Progress progress, CancellationToken cancellationToken)
    {
        var size = checkpoint.TreeSize;
        if (size > Array.MaxLength)
        {
            throw new LogSourceException($"a log of {size} entries is more than this verifier holds in memory");
        }

        var store = new InMemoryHashStore();
        var tree = new MerkleLog(store);
        var contracts = new string?[size];
        var startedAt = new long[size];
        var entries = new Dictionary<long, UsageEntry>();
        var contractNames = new Dictionary<string, string>(StringComparer.Ordinal);
        (long Index, string Reason)? undecodable = null;
        var leaf = new byte[Sha256Hash.Size];
        var tiles = 0;

        for (long n = 0; n * TileLayout.Width < size; n++)
        {
            var width = (int)Math.Min(TileLayout.Width, size - (n * TileLayout.Width));
            var coordinate = new TileCoordinate(0, n, width);
            var bundleTask = FetchAsync(source, coordinate, TilePath.EntryBundle, cancellationToken);
            var (tilePath, tile) = await FetchAsync(source, coordinate, TilePath.Tile, cancellationToken);
            var (bundlePath, bundle) = await bundleTask;
            RequireLength(tilePath, tile, width);
            tiles++;

            var bundleEntries = ReadBundle(bundlePath, bundle, width);
            for (var i = 0; i < width; i++)
            {
                var index = (n * TileLayout.Width) + i;
                MerkleHashing.HashLeaf(bundleEntries[i], leaf);
                if (!CryptographicOperations.FixedTimeEquals(leaf, tile.AsSpan(i * Sha256Hash.Size, Sha256Hash.Size)))
                {
                    throw new VerificationFault(string.Create(CultureInfo.InvariantCulture,
                        $"leaf {index}: its entry in {bundlePath} does not hash to its leaf hash in {tilePath} (the entry or the tile was altered)"));
                }

                tree.AppendLeafHash(leaf);
                try
                {
                    var entry = UsageEntryEncoding.Decode(bundleEntries[i]);
                    contracts[index] = entry.ContractId is { } id ? contractNames.TryAdd(id, id) ? id : contractNames[id] : null;
                    startedAt[index] = entry.StartedAtMicros;
                    if (counted.Contains(index))
                    {
                        entries[index] = entry;
                    }
                }
                catch (FormatException ex)
                {
                    undecodable ??= (index, ex.Message);
                }
            }

            progress.Report("entries", tree.Size, size);
        }

        var root = new byte[Sha256Hash.Size];
        tree.RootHash(size, root);
        if (!root.AsSpan().SequenceEqual(checkpoint.RootHash))
        {
            throw new VerificationFault(
                $"the root recomputed from the entry bundles ({Convert.ToBase64String(root)}) is not the checkpoint's ({Convert.ToBase64String(checkpoint.RootHash)})");
        }

        foreach (var coordinate in TileLayout.Tiles(size).Where(t => t.Level > 0))
        {
            var (path, bytes) = await FetchAsync(source, coordinate, TilePath.Tile, cancellationToken);
            RequireLength(path, bytes, coordinate.Width);
            if (!bytes.AsSpan(0, coordinate.ByteLength).SequenceEqual(TileBuilder.Build(store, coordinate)))
            {
                throw new VerificationFault($"{path} does not hold the hashes of the tree rebuilt from the entries");
            }

            tiles++;
        }

        if (undecodable is { } bad)
        {
            throw new VerificationFault(string.Create(CultureInfo.InvariantCulture, $"leaf {bad.Index} is not a usage entry: {bad.Reason}"));
        }

        return new VerifiedTree(tree, contracts, startedAt, entries, tiles);
    }

    /// <summary>
    /// A tile or bundle; a partial one the log has since completed may be gone, and then the full one stands in (its
    /// first hashes or entries are the partial one's), as tlog-tiles allows.
    /// </summary>
    private static async Task<(string Path, byte[] Bytes)> FetchAsync(
        ILogSource source, TileCoordinate coordinate, Func<TileCoordinate, string> path, CancellationToken cancellationToken)
    {
        var wanted = path(coordinate);
        if (await source.GetAsync("log/" + wanted, cancellationToken) is { } bytes)
        {
            return (wanted, bytes);
        }

        if (coordinate.IsPartial)
        {
            var full = path(new TileCoordinate(coordinate.Level, coordinate.Index, TileLayout.Width));
            if (await source.GetAsync("log/" + full, cancellationToken) is { } fullBytes)
            {
                return (full, fullBytes);
            }
        }

        throw new VerificationFault($"log/{wanted} is missing");
    }

    /// <summary>A partial tile is its width in hashes; a full one (perhaps standing in for a partial one) 256.</summary>
    private static void RequireLength(string path, byte[] tile, int width)
    {
        var expected = IsPartial(path) ? width : TileLayout.Width;
        if (tile.Length != expected * Sha256Hash.Size)
        {
            throw new VerificationFault(string.Create(CultureInfo.InvariantCulture,
                $"{path} is {tile.Length} bytes, not {expected * Sha256Hash.Size} ({expected} hashes)"));
        }
    }

    private static bool IsPartial(string path) => path.Contains(".p/", StringComparison.Ordinal);

    /// <summary>The bundle's entries, exactly as many as its path says (a full one may stand in for a partial one).</summary>
    private static List<byte[]> ReadBundle(string path, byte[] bundle, int width)
    {
        var entries = new List<byte[]>(width);
        var reader = new EntryBundleReader(bundle);
        while (reader.TryReadNext(out var entry))
        {
            entries.Add(entry.ToArray());
        }

        if (!reader.IsComplete)
        {
            throw new VerificationFault($"{path} ends inside an entry (after {entries.Count} whole entries)");
        }

        var expected = IsPartial(path) ? width : TileLayout.Width;
        if (entries.Count != expected)
        {
            throw new VerificationFault(string.Create(CultureInfo.InvariantCulture, $"{path} holds {entries.Count} entries, not {expected}"));
        }

        return entries;
    }
}
