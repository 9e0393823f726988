using System.Net;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Tiles;

namespace MeterAgent.IntegrationTests;

/// <summary>
/// A tlog-tiles client against the agent: the published checkpoint, every tile and entry bundle of its size, fetched
/// over HTTP and checked the way any tlog-tiles client checks them, with nothing taken from the agent's memory.
/// </summary>
public sealed class LogTilesTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("meteragent-tiles-");
    private readonly NoteKeyPair _key = NoteKeyPair.Generate(UsageLogClient.Origin);
    private TestAgent _agent = null!;
    private UsageLogClient _log = null!;

    public async Task InitializeAsync()
    {
        // Published on the schedule alone here: nothing in these tests asks for a newer checkpoint.
        _agent = await TestAgent.StartAsync(settings: UsageLogClient.Settings(_folder, _key, ("Attestation:CheckpointInterval", "00:00:00.2")));
        _log = new UsageLogClient(_agent, _key);
    }

    public async Task DisposeAsync()
    {
        _log.Dispose();
        await _agent.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Every_tile_and_bundle_of_the_published_size_rebuilds_its_root_and_hashes_its_entries()
    {
        // 300 entries: a full level-0 tile, a partial one of 44, and a level-1 partial tile of 1.
        var ids = await _log.MakeRecordsAsync(300);
        var (checkpoint, _) = await _log.CheckpointOfSizeAsync(300);
        Assert.Equal(300, checkpoint.TreeSize);
        Assert.Equal(UsageLogClient.Origin, checkpoint.Origin);

        var tiles = new Dictionary<TileCoordinate, byte[]>();
        foreach (var tile in TileLayout.Tiles(300))
        {
            using var response = await _log.Http.GetAsync("log/" + TilePath.Tile(tile));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(tile.IsPartial ? "private, no-cache" : "private, max-age=31536000, immutable", response.Headers.NonValidated["Cache-Control"].ToString());
            tiles[tile] = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(tile.ByteLength, tiles[tile].Length);
        }

        Assert.Equal(["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"], tiles.Keys.Select(TilePath.Tile));

        // The root from the partial tiles alone is the signed one.
        var root = new byte[32];
        var rootTiles = TileLayout.RootTiles(300).Select(t => (ReadOnlyMemory<byte>)tiles[t]).ToArray();
        Assert.Equal(TiledRootResult.Computed, TiledRoot.TryCompute(300, rootTiles, root));
        Assert.Equal(checkpoint.RootHash.ToArray(), root);

        // The level-1 hash is the root of the full level-0 tile below it.
        var fullTileRoot = new byte[32];
        MerkleHashing.RootOfHashes(tiles[new TileCoordinate(0, 0, 256)], fullTileRoot);
        Assert.Equal(fullTileRoot, tiles[new TileCoordinate(1, 0, 1)]);

        // The entries hash to the level-0 tiles, and they are exactly the records made.
        var logged = new List<string>();
        foreach (var tile in tiles.Keys.Where(t => t.Level == 0))
        {
            using var response = await _log.Http.GetAsync("log/" + TilePath.EntryBundle(tile));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
            var bundle = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(EntryBundleCheck.Matches, EntryBundle.Check(bundle, tiles[tile]));
            logged.AddRange(Entries(bundle).Select(e => UsageEntryEncoding.Decode(e).UsageId));
        }

        Assert.Equal(ids.Order(StringComparer.Ordinal), logged.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Only_tiles_the_published_size_covers_are_served()
    {
        await _log.MakeRecordsAsync(3);
        var (checkpoint, _) = await _log.CheckpointOfSizeAsync(3);
        Assert.Equal(3, checkpoint.TreeSize);

        foreach (var path in new[] { "tile/0/000.p/3", "tile/entries/000.p/3" })
        {
            using var response = await _log.Http.GetAsync("log/" + path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // A narrower partial tile (an older checkpoint's, size 2) is the published one's prefix: a reader holding that
        // checkpoint still gets it after the log has grown.
        var wide = await _log.Http.GetByteArrayAsync("log/tile/0/000.p/3");
        Assert.Equal(wide.AsSpan(0, 2 * 32).ToArray(), await _log.Http.GetByteArrayAsync("log/tile/0/000.p/2"));
        var wideBundle = await _log.Http.GetByteArrayAsync("log/tile/entries/000.p/3");
        Assert.Equal(wideBundle.AsSpan(0, (await _log.Http.GetByteArrayAsync("log/tile/entries/000.p/2")).Length).ToArray(),
            await _log.Http.GetByteArrayAsync("log/tile/entries/000.p/2"));

        // A width past the published size, a full tile the log has not reached, a level it has no tile at, and paths
        // that are not canonical tlog-tiles paths.
        foreach (var path in new[] { "tile/0/000.p/4", "tile/0/000", "tile/entries/000", "tile/1/000.p/1", "tile/0/001.p/3", "tile/0/0", "tile/0/x000/000.p/3", "tile/00/000.p/3", "tile/entries/000.p/03", "tile/entries/000.p/4" })
        {
            using var response = await _log.Http.GetAsync("log/" + path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Tiles_need_the_clearing_houses_token()
    {
        await _log.CheckpointAsync();
        using var anonymous = new HttpClient { BaseAddress = new Uri(_agent.ManagementUrl) };

        foreach (var path in new[] { "log/checkpoint", "log/tile/0/000.p/1", "log/tile/entries/000.p/1" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {response.StatusCode}");
        }
    }

    private static List<byte[]> Entries(byte[] bundle)
    {
        var entries = new List<byte[]>();
        var reader = new EntryBundleReader(bundle);
        while (reader.TryReadNext(out var entry))
        {
            entries.Add(entry.ToArray());
        }

        Assert.True(reader.IsComplete);
        return entries;
    }
}
