namespace MeterAgent.Attestation.Tiles;

/// <summary>The outcome of recomputing a root from tiles; tiles come from the network, so bad ones are an answer.</summary>
public enum TiledRootResult
{
    /// <summary>The root was computed (compare it with the checkpoint's).</summary>
    Computed,

    /// <summary>The tree size is negative.</summary>
    SizeOutOfRange,

    /// <summary>Not one tile per entry of <see cref="TileLayout.RootTiles"/>.</summary>
    WrongTileCount,

    /// <summary>A tile is neither its partial width nor a full tile long.</summary>
    WrongTileLength,
}
