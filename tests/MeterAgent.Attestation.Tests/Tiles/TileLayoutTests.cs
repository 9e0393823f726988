using MeterAgent.Attestation.Tiles;

namespace MeterAgent.Attestation.Tests.Tiles;

public sealed class TileLayoutTests
{
    [Fact]
    public void The_spec_example_of_a_tree_of_70000()
    {
        // c2sp.org/tlog-tiles: "273 full level 0 tiles, one partial level 0 tile of width 112, one full level 1 tile,
        // one partial level 1 tile of width 17, and one partial level 2 tile of width 1".
        var tiles = TileLayout.Tiles(70_000).ToList();
        Assert.Equal(273, tiles.Count(t => t.Level == 0 && !t.IsPartial));
        Assert.Equal([new TileCoordinate(0, 273, 112), new TileCoordinate(1, 1, 17), new TileCoordinate(2, 0, 1)], tiles.Where(t => t.IsPartial));
        Assert.Equal([new TileCoordinate(1, 0, 256)], tiles.Where(t => t.Level == 1 && !t.IsPartial));
        Assert.Equal(273 + 1 + 1 + 1 + 1, tiles.Count);
    }

    [Fact]
    public void A_tree_of_256_is_one_full_tile_and_a_level_1_tile_of_width_1()
    {
        // Also from the spec text.
        Assert.Equal([new TileCoordinate(0, 0, 256), new TileCoordinate(1, 0, 1)], TileLayout.Tiles(256));
    }

    [Theory]
    [InlineData(0, new string[0])]
    [InlineData(1, new[] { "tile/0/000.p/1" })]
    [InlineData(255, new[] { "tile/0/000.p/255" })]
    [InlineData(256, new[] { "tile/0/000", "tile/1/000.p/1" })]
    [InlineData(257, new[] { "tile/0/000", "tile/0/001.p/1", "tile/1/000.p/1" })]
    [InlineData(512, new[] { "tile/0/000", "tile/0/001", "tile/1/000.p/2" })]
    public void Tiles_at_the_boundaries(long size, string[] paths)
    {
        Assert.Equal(paths, TileLayout.Tiles(size).Select(TilePath.Tile));
    }

    [Fact]
    public void A_tree_of_65537_has_256_full_level_0_tiles_a_full_level_1_tile_and_three_partials()
    {
        var tiles = TileLayout.Tiles(65_537).ToList();
        Assert.Equal(256, tiles.Count(t => t.Level == 0 && !t.IsPartial));
        Assert.Equal("tile/0/255", TilePath.Tile(tiles[255]));
        Assert.Equal(
            ["tile/0/256.p/1", "tile/1/000", "tile/2/000.p/1"],
            tiles.Skip(256).Select(TilePath.Tile));
        Assert.Equal(["tile/0/256.p/1", "tile/2/000.p/1"], TileLayout.RootTiles(65_537).Select(TilePath.Tile));
        Assert.Equal(["tile/2/000.p/1"], TileLayout.RootTiles(65_536).Select(TilePath.Tile));
    }

    [Theory]
    [InlineData(0, 0, 0, 0)]
    [InlineData(0, 255, 0, 255)]
    [InlineData(0, 256, 1, 0)]
    [InlineData(1, 256, 0, 1)]
    [InlineData(0, 70_000, 273, 112)]
    [InlineData(1, 70_000, 1, 17)]
    [InlineData(2, 70_000, 0, 1)]
    [InlineData(3, 70_000, 0, 0)]
    [InlineData(7, long.MaxValue, 0, 127)]
    [InlineData(8, long.MaxValue, 0, 0)]
    public void Full_counts_and_partial_widths(int level, long size, long full, int partial)
    {
        Assert.Equal(full, TileLayout.FullTileCount(level, size));
        Assert.Equal(partial, TileLayout.PartialTileWidth(level, size));
    }

    [Fact]
    public void Growing_publishes_the_newly_full_tiles_and_the_new_partials_only()
    {
        Assert.Equal(
            ["tile/0/000", "tile/0/001.p/4", "tile/1/000.p/1"],
            TileLayout.NewTiles(250, 260).Select(TilePath.Tile));
        Assert.Equal(["tile/0/001.p/5"], TileLayout.NewTiles(260, 261).Select(TilePath.Tile));
        Assert.Empty(TileLayout.NewTiles(261, 261));
        // Every tile of the final tree is published once along any growth path, and nothing else.
        var published = new List<TileCoordinate>();
        long size = 0;
        foreach (var next in new long[] { 1, 7, 255, 256, 300, 511, 512, 513, 70_000 })
        {
            published.AddRange(TileLayout.NewTiles(size, next));
            size = next;
        }

        var finalTiles = TileLayout.Tiles(70_000).ToHashSet();
        Assert.Subset(published.ToHashSet(), finalTiles);
        Assert.Equal(published.Count(t => !t.IsPartial), published.Where(t => !t.IsPartial).Distinct().Count());
    }
}
