using MeterAgent.Contracts.Specs;

namespace MeterAgent.Contracts.Tests.Specs;

public sealed class ContractCatalogTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void The_shipped_examples_load()
    {
        var catalog = ContractCatalog.LoadFolder(Path.Combine(RepoRoot.Path, "contracts"));

        Assert.Equal(["claude-native-2026q4", "o200k-std-2026q4"], catalog.All.Select(s => s.Id));

        var general = catalog.Find("o200k-std-2026q4")!;
        Assert.Equal(1, general.Version);
        Assert.Equal(UnitBasis.Reference, general.Basis);
        Assert.Equal(new TokenWeights(1m, 0.1m, 1.25m, 4m, 4m), general.Weights);
        Assert.Equal(new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero), general.DeliveryStart);
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), general.DeliveryEnd);
        Assert.Equal(TimeSpan.FromMinutes(15), general.SettlementInterval);
        Assert.EndsWith("o200k-std-2026q4.v1.json", general.SourceFile, StringComparison.Ordinal);
        Assert.True(general.CoversModel("gpt-4o-mini"));
        Assert.True(general.CoversModel("emu-chat"));
        Assert.False(general.CoversModel("claude-sonnet-4-5"));

        var claude = catalog.Find("claude-native-2026q4")!;
        Assert.Equal(UnitBasis.Native, claude.Basis);
        Assert.True(claude.CoversModel("claude-sonnet-4-5"));
        Assert.True(claude.CoversModel("emu-claude"));
        Assert.False(claude.CoversModel("emu-chat"));
        Assert.False(claude.CoversModel("gpt-4o"));
    }

    [Fact]
    public void Find_without_a_version_returns_the_highest()
    {
        _folder.Write("v2.json", SpecJson.With("version", "2"));
        _folder.Write("v10.json", SpecJson.With("version", "10"));
        _folder.Write("v1.json", SpecJson.Valid);

        var catalog = ContractCatalog.LoadFolder(_folder.Path);

        Assert.Equal(10, catalog.Find("o200k-std-2026q4")!.Version);
        Assert.Equal(2, catalog.Find("o200k-std-2026q4", 2)!.Version);
        Assert.Null(catalog.Find("o200k-std-2026q4", 3));
        Assert.Null(catalog.Find("other"));
        Assert.Equal([1, 2, 10], catalog.All.Select(s => s.Version));
    }

    [Fact]
    public void A_duplicate_id_and_version_names_both_files()
    {
        var first = _folder.Write("a.json", SpecJson.Valid);
        var second = _folder.Write("b.json", SpecJson.With("eligible_models", "[\"other-*\"]"));

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(_folder.Path));

        Assert.Equal(second, ex.File);
        Assert.Contains(second, ex.Message, StringComparison.Ordinal);
        Assert.Contains(first, ex.Message, StringComparison.Ordinal);
        Assert.Equal("version", ex.Field);
    }

    [Fact]
    public void The_same_id_with_another_version_is_not_a_duplicate()
    {
        _folder.Write("a.json", SpecJson.Valid);
        _folder.Write("b.json", SpecJson.With("version", "2"));

        Assert.Equal(2, ContractCatalog.LoadFolder(_folder.Path).All.Count);
    }

    [Fact]
    public void An_empty_folder_loads_an_empty_catalog()
    {
        _folder.Write("README.md", "not a spec");

        var catalog = ContractCatalog.LoadFolder(_folder.Path);

        Assert.Empty(catalog.All);
        Assert.Null(catalog.Find("o200k-std-2026q4"));
    }

    [Fact]
    public void A_missing_folder_is_named()
    {
        var missing = Path.Combine(_folder.Path, "nope");

        var ex = Assert.Throws<ContractSpecException>(() => ContractCatalog.LoadFolder(missing));

        Assert.Equal(missing, ex.File);
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Specs_in_subfolders_are_not_loaded()
    {
        Directory.CreateDirectory(Path.Combine(_folder.Path, "old"));
        _folder.Write(Path.Combine("old", "retired.json"), "not even json");

        Assert.Empty(ContractCatalog.LoadFolder(_folder.Path).All);
    }
}
