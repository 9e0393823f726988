using System.Buffers;
using MeterAgent.Attestation.Tiles;
using MeterAgent.Ledger.Usage;
using Microsoft.Net.Http.Headers;

namespace MeterAgent.Log;

/// <summary>
/// C2SP tlog-tiles under <c>/log</c>: hash tiles from the in-memory tree and entry bundles from the store, only as far
/// as the published checkpoint reaches, so every resource served belongs to a tree a reader can verify. A partial
/// tile is served at any width the published size covers (an older checkpoint's width too); the full tile at that index
/// comes once the log reaches it.
/// </summary>
internal static class LogTiles
{
    private const string OctetStream = "application/octet-stream";

    // A full tile's bytes never change (tlog-tiles: "this endpoint is immutable"); the token keeps them out of shared caches.
    private const string Immutable = "private, max-age=31536000, immutable";

    // A partial tile is replaced by a wider one as the log grows.
    private const string Revalidate = "private, no-cache";

    /// <summary><c>GET /log/tile/{**path}</c>: <c>tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</c> or <c>tile/entries/&lt;N&gt;[.p/&lt;W&gt;]</c>.</summary>
    public static async Task<IResult> ServeAsync(string path, HttpContext context, CheckpointPublisher publisher, UsageLogTree tree, IUsageLog log)
    {
        var ct = context.RequestAborted;
        var published = await publisher.LatestAsync(ct);
        var resource = "tile/" + path;
        if (TilePath.TryParseEntryBundle(resource, out var bundle))
        {
            return IsPublished(bundle, published.Size)
                ? Serve(context, bundle, await EntryBundleAsync(log, bundle, ct))
                : NotPublished(resource, published.Size);
        }

        if (TilePath.TryParseTile(resource, out var tile))
        {
            return IsPublished(tile, published.Size) ? Serve(context, tile, tree.Tile(tile)) : NotPublished(resource, published.Size);
        }

        return Results.Problem($"'{resource}' is not a tlog-tiles path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in x-prefixed groups of three digits).", statusCode: StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// Full tiles up to the published size, and a partial tile at any width the published size covers: the first W
    /// hashes of a tile never change once the tree holds them. So a reader that took an older checkpoint still gets the
    /// narrower partial tile its size names after the log has grown (tlog-tiles readers fetch exactly that one), on a
    /// single node as on a replica that adopted a newer shared checkpoint meanwhile.
    /// </summary>
    private static bool IsPublished(TileCoordinate tile, long size) => tile.IsPartial
        ? tile.Index < TileLayout.FullTileCount(tile.Level, size)
            || (tile.Index == TileLayout.FullTileCount(tile.Level, size) && tile.Width <= TileLayout.PartialTileWidth(tile.Level, size))
        : tile.Index < TileLayout.FullTileCount(tile.Level, size);

    private static async Task<ReadOnlyMemory<byte>> EntryBundleAsync(IUsageLog log, TileCoordinate tile, CancellationToken ct)
    {
        var entries = await log.ReadAsync(tile.Index * TileLayout.Width, tile.Width, ct);
        if (entries.Count != tile.Width)
        {
            throw new InvalidOperationException($"The store holds {entries.Count} of the {tile.Width} entries of published bundle {TilePath.EntryBundle(tile)}.");
        }

        var bundle = new ArrayBufferWriter<byte>();
        foreach (var entry in entries)
        {
            EntryBundle.Append(bundle, entry);
        }

        return bundle.WrittenMemory;
    }

    private static IResult Serve(HttpContext context, TileCoordinate tile, ReadOnlyMemory<byte> bytes)
    {
        context.Response.Headers[HeaderNames.CacheControl] = tile.IsPartial ? Revalidate : Immutable;
        return Results.Bytes(bytes, OctetStream);
    }

    private static IResult NotPublished(string resource, long size) =>
        Results.Problem($"'{resource}' is not part of the published log (size {size}).", statusCode: StatusCodes.Status404NotFound);
}
