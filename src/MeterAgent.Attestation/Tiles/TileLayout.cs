namespace MeterAgent.Attestation.Tiles;

/// <summary>Which tiles a tree of a given size has, per C2SP tlog-tiles (tile height 8).</summary>
public static class TileLayout
{
    /// <summary>Tree levels one tile spans: a tile's hashes sit 8 levels above the hashes of the tiles below.</summary>
    public const int Height = 8;

    /// <summary>Hashes in a full tile (2^<see cref="Height"/>).</summary>
    public const int Width = 1 << Height;

    /// <summary>8,192: a full tile's length.</summary>
    public const int FullTileBytes = Width * Sha256Hash.Size;

    /// <summary>The spec allows levels 0..63; a tree of at most 2^63 − 1 leaves only reaches level 7.</summary>
    public const int MaxLevel = 63;

    /// <summary>The tree level (0 = leaves) whose hashes fill tiles of <paramref name="tileLevel"/>.</summary>
    public static int TreeLevel(int tileLevel) => tileLevel * Height;

    /// <summary>Levels that have at least one tile, full or partial.</summary>
    public static int LevelCount(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var levels = 0;
        for (var remaining = (ulong)size; remaining != 0; remaining >>= Height)
        {
            levels++;
        }

        return levels;
    }

    /// <summary>Full tiles at <paramref name="level"/>: floor(size / 256^(level+1)).</summary>
    public static long FullTileCount(int level, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        // C# masks shift counts to 6 bits, so a shift of 64 or more would silently become a small one.
        var shift = (level + 1) * Height;
        return shift >= 63 ? 0 : size >> shift;
    }

    /// <summary>Width of the partial tile at <paramref name="level"/>: floor(size / 256^level) mod 256; 0 when there is none.</summary>
    public static int PartialTileWidth(int level, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        var shift = level * Height;
        return shift >= 63 ? 0 : (int)((size >> shift) % Width);
    }

    /// <summary>The partial tile at <paramref name="level"/>, if the tree has one there.</summary>
    public static TileCoordinate? PartialTile(int level, long size)
    {
        var width = PartialTileWidth(level, size);
        return width == 0 ? null : new TileCoordinate(level, FullTileCount(level, size), width);
    }

    /// <summary>Every tile of the tree, full and partial, level 0 first and left to right. Lazy: big trees have many.</summary>
    public static IEnumerable<TileCoordinate> Tiles(long size) => NewTiles(0, size);

    /// <summary>
    /// The tiles a log publishes when it grows from <paramref name="oldSize"/> to <paramref name="newSize"/>: the ones
    /// that became full, and each partial tile of the new size that the old size did not already have. Full tiles are
    /// immutable once written; the partial ones are what a checkpoint of the new size needs.
    /// </summary>
    public static IEnumerable<TileCoordinate> NewTiles(long oldSize, long newSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        return Enumerate(oldSize, newSize);

        static IEnumerable<TileCoordinate> Enumerate(long oldSize, long newSize)
        {
            var levels = LevelCount(newSize);
            for (var level = 0; level < levels; level++)
            {
                var full = FullTileCount(level, newSize);
                for (var index = FullTileCount(level, oldSize); index < full; index++)
                {
                    yield return new TileCoordinate(level, index, Width);
                }

                if (PartialTile(level, newSize) is { } partial && partial != PartialTile(level, oldSize))
                {
                    yield return partial;
                }
            }
        }
    }

    /// <summary>
    /// The tiles whose hashes make up the root of a tree of <paramref name="size"/>: its partial tiles, level 0 first.
    /// The root's subtrees are exactly the hashes of the partial tiles, so a client that checks a checkpoint needs
    /// these and nothing else.
    /// </summary>
    public static TileCoordinate[] RootTiles(long size)
    {
        var levels = LevelCount(size);
        var tiles = new List<TileCoordinate>(levels);
        for (var level = 0; level < levels; level++)
        {
            if (PartialTile(level, size) is { } partial)
            {
                tiles.Add(partial);
            }
        }

        return [.. tiles];
    }
}
