namespace MeterAgent.Contracts.Specs;

/// <summary>The loaded, validated contract specs.</summary>
public sealed class ContractCatalog
{
    public ContractCatalog(IReadOnlyList<ContractSpec> specs) => throw new NotImplementedException();

    public IReadOnlyList<ContractSpec> All => throw new NotImplementedException();

    /// <summary>The spec with this id and version (null version: the highest).</summary>
    public ContractSpec? Find(string id, int? version = null) => throw new NotImplementedException();

    /// <summary>Loads every *.json spec in the folder; throws <see cref="ContractSpecException"/> naming the file and field on the first bad one.</summary>
    public static ContractCatalog LoadFolder(string folder) => throw new NotImplementedException();
}
