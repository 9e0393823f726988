namespace MeterAgent.Attestation.Tiles;

/// <summary>
/// One tile of C2SP tlog-tiles: the <see cref="Index"/>-th run of up to 256 consecutive Merkle Tree Hashes at tree
/// level <c>8 · <see cref="Level"/></c>. The entry bundle at level 0 has the same index and width.
/// </summary>
public readonly record struct TileCoordinate
{
    public TileCoordinate(int level, long index, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, TileLayout.MaxLevel);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, TileLayout.Width);
        Level = level;
        Index = index;
        Width = width;
    }

    public int Level { get; }

    public long Index { get; }

    /// <summary>Hashes in the tile: 256 for a full tile, 1..255 for a partial one.</summary>
    public int Width { get; }

    public bool IsPartial => Width < TileLayout.Width;

    /// <summary>Length of the tile's bytes: its hashes, 32 bytes each.</summary>
    public int ByteLength => Width * Sha256Hash.Size;

    /// <summary>The path under the log's prefix, e.g. <c>tile/1/x001/234.p/17</c>.</summary>
    public override string ToString() => TilePath.Tile(this);
}
