using System.Buffers;
using System.Buffers.Binary;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Tiles;

namespace MeterAgent.Attestation.Tests.Tiles;

/// <summary>Tiles built from the log's store, read back as a client would: they must give the log's own roots.</summary>
public sealed class TiledRootTests
{
    [Fact]
    public void The_root_from_tiles_equals_the_tree_root_for_every_size_to_1000()
    {
        var (log, store) = LogOf(1000);
        var expected = new byte[32];
        var actual = new byte[32];
        for (long size = 0; size <= 1000; size++)
        {
            log.RootHash(size, expected);
            var tiles = TileLayout.RootTiles(size).Select(t => (ReadOnlyMemory<byte>)TileBuilder.Build(store, t)).ToArray();
            Assert.Equal(TiledRootResult.Computed, TiledRoot.TryCompute(size, tiles, actual));
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [InlineData(65_535)]
    [InlineData(65_536)]
    [InlineData(65_537)]
    [InlineData(70_000)]
    public void The_root_from_tiles_holds_across_three_levels(long size)
    {
        var (log, store) = LogOf(70_000);
        var expected = new byte[32];
        var actual = new byte[32];
        log.RootHash(size, expected);
        var tiles = TileLayout.RootTiles(size).Select(t => (ReadOnlyMemory<byte>)TileBuilder.Build(store, t)).ToArray();
        Assert.Equal(TiledRootResult.Computed, TiledRoot.TryCompute(size, tiles, actual));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void A_full_tile_stands_in_for_a_partial_one_that_was_replaced()
    {
        var (log, store) = LogOf(512);
        var expected = new byte[32];
        var actual = new byte[32];
        log.RootHash(300, expected);
        // Size 300 needs tile/0/001.p/44 and tile/1/000.p/1; the log has since filled tile/0/001.
        var tiles = new ReadOnlyMemory<byte>[]
        {
            TileBuilder.Build(store, new TileCoordinate(0, 1, 256)),
            TileBuilder.Build(store, new TileCoordinate(1, 0, 1)),
        };
        Assert.Equal(TiledRootResult.Computed, TiledRoot.TryCompute(300, tiles, actual));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Bad_tiles_are_an_answer()
    {
        var (_, store) = LogOf(300);
        var root = new byte[32];
        var good = TileLayout.RootTiles(300).Select(t => (ReadOnlyMemory<byte>)TileBuilder.Build(store, t)).ToArray();
        Assert.Equal(TiledRootResult.WrongTileCount, TiledRoot.TryCompute(300, good.AsSpan(1), root));
        Assert.Equal(TiledRootResult.WrongTileLength, TiledRoot.TryCompute(300, new[] { good[0][..^32], good[1] }, root));
        Assert.Equal(TiledRootResult.SizeOutOfRange, TiledRoot.TryCompute(-1, [], root));
        Assert.Equal(TiledRootResult.Computed, TiledRoot.TryCompute(0, [], root));
        Assert.Equal(MerkleHashing.EmptyRoot.ToArray(), root);

        // A tampered hash still computes, to a root that is not the log's: the checkpoint comparison catches it.
        var expected = new byte[32];
        new MerkleLog(store).RootHash(300, expected);
        var tampered = good[0].ToArray();
        tampered[5] ^= 1;
        Assert.Equal(TiledRootResult.Computed, TiledRoot.TryCompute(300, new ReadOnlyMemory<byte>[] { tampered, good[1] }, root));
        Assert.NotEqual(expected, root);
    }

    [Fact]
    public void A_full_tile_hashes_to_its_entry_in_the_tile_above()
    {
        var (_, store) = LogOf(70_000);
        var level1 = TileBuilder.Build(store, new TileCoordinate(1, 1, 17));
        var hash = new byte[32];
        for (var i = 0; i < 17; i++)
        {
            MerkleHashing.RootOfHashes(TileBuilder.Build(store, new TileCoordinate(0, 256 + i, 256)), hash);
            Assert.Equal(level1.AsSpan(i * 32, 32).ToArray(), hash);
        }
    }

    [Fact]
    public void Level_0_tiles_are_the_leaf_hashes_and_bundles_check_against_them()
    {
        var (_, store) = LogOf(300);
        var tile = TileBuilder.Build(store, new TileCoordinate(0, 1, 44));
        var bundle = new ArrayBufferWriter<byte>();
        var leaf = new byte[32];
        for (var i = 256; i < 300; i++)
        {
            MerkleHashing.HashLeaf(Entry(i), leaf);
            Assert.Equal(leaf, tile.AsSpan((i - 256) * 32, 32).ToArray());
            EntryBundle.Append(bundle, Entry(i));
        }

        var bytes = bundle.WrittenSpan.ToArray();
        Assert.Equal(EntryBundleCheck.Matches, EntryBundle.Check(bytes, tile));
        Assert.Equal(EntryBundleCheck.CountMismatch, EntryBundle.Check(bytes, tile.AsSpan(0, tile.Length - 32)));
        Assert.Equal(EntryBundleCheck.CountMismatch, EntryBundle.Check(bytes, [.. tile, .. leaf]));
        Assert.Equal(EntryBundleCheck.Malformed, EntryBundle.Check(bytes.AsSpan(0, bytes.Length - 1), tile));
        bytes[^1] ^= 1;
        Assert.Equal(EntryBundleCheck.HashMismatch, EntryBundle.Check(bytes, tile));
    }

    [Fact]
    public void Bundle_entries_are_a_big_endian_uint16_length_and_the_bytes()
    {
        var bundle = new ArrayBufferWriter<byte>();
        EntryBundle.Append(bundle, []);
        EntryBundle.Append(bundle, [0xab, 0xcd]);
        EntryBundle.Append(bundle, new byte[300]);
        Assert.Equal("0000" + "0002abcd" + "012c", Convert.ToHexStringLower(bundle.WrittenSpan[..8]));
        Assert.Equal(2 + 4 + 302, bundle.WrittenCount);

        var reader = new EntryBundleReader(bundle.WrittenSpan);
        Assert.True(reader.TryReadNext(out var first));
        Assert.True(first.IsEmpty);
        Assert.True(reader.TryReadNext(out var second));
        Assert.Equal([0xab, 0xcd], second.ToArray());
        Assert.True(reader.TryReadNext(out var third));
        Assert.Equal(300, third.Length);
        Assert.False(reader.TryReadNext(out _));
        Assert.True(reader.IsComplete);

        Assert.Throws<ArgumentException>(() => EntryBundle.Append(bundle, new byte[65_536]));
        Assert.Throws<ArgumentException>(() => new MerkleLog(new InMemoryHashStore()).Append(new byte[65_536]));
        var max = new ArrayBufferWriter<byte>();
        EntryBundle.Append(max, new byte[65_535]);
        Assert.Equal(0xffff, BinaryPrimitives.ReadUInt16BigEndian(max.WrittenSpan));
    }

    private static byte[] Entry(int i) => BitConverter.GetBytes(i);

    private static (MerkleLog Log, InMemoryHashStore Store) LogOf(int size)
    {
        var store = new InMemoryHashStore();
        var log = new MerkleLog(store);
        for (var i = 0; i < size; i++)
        {
            log.Append(Entry(i));
        }

        return (log, store);
    }
}
