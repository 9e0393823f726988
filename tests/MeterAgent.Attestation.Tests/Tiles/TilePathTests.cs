using MeterAgent.Attestation.Tiles;

namespace MeterAgent.Attestation.Tests.Tiles;

public sealed class TilePathTests
{
    [Theory]
    // The spec's own example: index 1234067 is x001/x234/067.
    [InlineData(0, 1_234_067, 256, "tile/0/x001/x234/067")]
    [InlineData(0, 0, 256, "tile/0/000")]
    [InlineData(0, 5, 17, "tile/0/005.p/17")]
    [InlineData(1, 999, 256, "tile/1/999")]
    [InlineData(1, 1000, 255, "tile/1/x001/000.p/255")]
    [InlineData(2, 1_000_000, 1, "tile/2/x001/x000/000.p/1")]
    [InlineData(63, long.MaxValue, 256, "tile/63/x009/x223/x372/x036/x854/x775/807")]
    public void Tile_paths_round_trip(int level, long index, int width, string path)
    {
        var tile = new TileCoordinate(level, index, width);
        Assert.Equal(path, TilePath.Tile(tile));
        Assert.Equal(path, tile.ToString());
        Assert.True(TilePath.TryParseTile(path, out var parsed));
        Assert.Equal(tile, parsed);
    }

    [Theory]
    [InlineData(0, 256, "tile/entries/000")]
    [InlineData(1_234_067, 256, "tile/entries/x001/x234/067")]
    [InlineData(273, 112, "tile/entries/273.p/112")]
    public void Entry_bundle_paths_round_trip(long index, int width, string path)
    {
        var tile = new TileCoordinate(0, index, width);
        Assert.Equal(path, TilePath.EntryBundle(tile));
        Assert.True(TilePath.TryParseEntryBundle(path, out var parsed));
        Assert.Equal(tile, parsed);
        Assert.False(TilePath.TryParseTile(path, out _));
    }

    [Theory]
    [InlineData("tile/0/0")]
    [InlineData("tile/0/0000")]
    [InlineData("tile/00/000")]
    [InlineData("tile/64/000")]
    [InlineData("tile/-1/000")]
    [InlineData("tile/0/x000/005")]
    [InlineData("tile/0/001/234")]
    [InlineData("tile/0/x01/234")]
    [InlineData("tile/0/x001/x234")]
    [InlineData("tile/0/000.p/0")]
    [InlineData("tile/0/000.p/256")]
    [InlineData("tile/0/000.p/017")]
    [InlineData("tile/0/000.p/")]
    [InlineData("tile/0/00a")]
    [InlineData("tile/0/x009/x223/x372/x036/x854/x775/808")]
    [InlineData("tile/0/x001/x009/x223/x372/x036/x854/x775/807")]
    [InlineData("/tile/0/000")]
    [InlineData("tile/0/000/")]
    [InlineData("tile/entries/000")]
    public void Only_canonical_tile_paths_parse(string path)
    {
        Assert.False(TilePath.TryParseTile(path, out _));
    }

    [Fact]
    public void Entry_bundles_pair_with_level_0_only()
    {
        Assert.Throws<ArgumentException>(() => TilePath.EntryBundle(new TileCoordinate(1, 0, 256)));
        Assert.False(TilePath.TryParseEntryBundle("tile/entries/000.p/256", out _));
    }
}
