using System.Buffers;
using System.Text;
using MeterAgent.Attestation.Merkle;
using MeterAgent.Attestation.Tiles;

namespace MeterAgent.Attestation.Tests.Merkle;

/// <summary>The worked example of docs/attestation.md, so the page a third party recomputes by hand stays true.</summary>
public sealed class DocumentedExampleTests
{
    private const string L0 = "2a158d8afd48e3f88cb4195dfdb2a9e4817d95fa57fd34440d93f9aae5c4f82b";
    private const string L1 = "e23537b050e84af2cbaab46f2f83d8d3b5febc8e5ac6200d306284f687d46924";
    private const string L2 = "4c79d0d62f7cf5ca8874155f2d3b875f2625da2bb3abc86bbd6833f25ba90e51";
    private const string N01 = "983cb57c04cddd52634edab38a7bef85708a974f114bbd9aa9ec5d4ce6656b4b";
    private const string Root = "385da30f3917282c8939dff851957e519ab1846b1351a14c0adb3b11632742aa";

    private static readonly string[] Entries = ["alpha", "beta", "gamma"];

    [Fact]
    public void The_three_entry_example_holds()
    {
        var store = new InMemoryHashStore();
        var log = new MerkleLog(store);
        foreach (var entry in Entries)
        {
            log.Append(Encoding.ASCII.GetBytes(entry));
        }

        var root = new byte[32];
        log.RootHash(3, root);
        Assert.Equal(Root, Convert.ToHexStringLower(root));
        log.RootHash(2, root);
        Assert.Equal(N01, Convert.ToHexStringLower(root));
        Assert.Equal(N01, Convert.ToHexStringLower(log.InclusionProof(2, 3)));
        Assert.Equal(L1 + L2, Convert.ToHexStringLower(log.InclusionProof(0, 3)));
        Assert.Equal(L2, Convert.ToHexStringLower(log.ConsistencyProof(2, 3)));

        var tile = new TileCoordinate(0, 0, 3);
        Assert.Equal("tile/0/000.p/3", TilePath.Tile(tile));
        Assert.Equal("tile/entries/000.p/3", TilePath.EntryBundle(tile));
        Assert.Equal(L0 + L1 + L2, Convert.ToHexStringLower(TileBuilder.Build(store, tile)));

        var bundle = new ArrayBufferWriter<byte>();
        foreach (var entry in Entries)
        {
            EntryBundle.Append(bundle, Encoding.ASCII.GetBytes(entry));
        }

        Assert.Equal("0005616c706861" + "000462657461" + "000567616d6d61", Convert.ToHexStringLower(bundle.WrittenSpan));
    }
}
