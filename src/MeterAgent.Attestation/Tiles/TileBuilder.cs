using MeterAgent.Attestation.Merkle;

namespace MeterAgent.Attestation.Tiles;

/// <summary>The bytes of a hash tile, read from the log's hash store.</summary>
public static class TileBuilder
{
    /// <summary>
    /// Writes the tile's hashes into <paramref name="destination"/> (exactly <see cref="TileCoordinate.ByteLength"/>).
    /// Hash i of tile (L, N) is the node at tree level 8L with index 256N + i: the store keeps those already, so a tile
    /// is one range read and no hashing.
    /// </summary>
    public static void Write(IHashReader hashes, TileCoordinate tile, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        if (destination.Length != tile.ByteLength)
        {
            throw new ArgumentException($"Tile {tile} is {tile.ByteLength} bytes.", nameof(destination));
        }

        hashes.ReadHashes(TileLayout.TreeLevel(tile.Level), checked(tile.Index * TileLayout.Width), destination);
    }

    public static byte[] Build(IHashReader hashes, TileCoordinate tile)
    {
        var bytes = new byte[tile.ByteLength];
        Write(hashes, tile, bytes);
        return bytes;
    }
}
