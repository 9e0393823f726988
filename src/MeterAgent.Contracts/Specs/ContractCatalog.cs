namespace MeterAgent.Contracts.Specs;

/// <summary>The loaded, validated contract specs.</summary>
public sealed class ContractCatalog
{
    private readonly ContractSpec[] _all;

    // Versions of each id, ascending, so Find(id) is the last one.
    private readonly Dictionary<string, ContractSpec[]> _byId;

    /// <summary>Validates every spec (whether from a file or built in code) and that no id+version appears twice.</summary>
    public ContractCatalog(IReadOnlyList<ContractSpec> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);

        var seen = new Dictionary<(string Id, int Version), ContractSpec>();
        foreach (var spec in specs)
        {
            ArgumentNullException.ThrowIfNull(spec, nameof(specs));
            ContractSpecValidator.Validate(spec);
            if (!seen.TryAdd((spec.Id, spec.Version), spec))
            {
                var first = seen[(spec.Id, spec.Version)];
                throw new ContractSpecException(
                    spec.SourceFile ?? "(in memory)",
                    "version",
                    $"repeats contract '{spec.Id}' version {spec.Version}, already defined in '{first.SourceFile ?? "(in memory)"}': give a new version a new number.");
            }
        }

        _all = [.. specs.OrderBy(s => s.Id, StringComparer.Ordinal).ThenBy(s => s.Version)];
        _byId = _all.GroupBy(s => s.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Every spec, ordered by id then version.</summary>
    public IReadOnlyList<ContractSpec> All => _all;

    /// <summary>The spec with this id and version (null version: the highest).</summary>
    public ContractSpec? Find(string id, int? version = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!_byId.TryGetValue(id, out var versions))
        {
            return null;
        }

        if (version is null)
        {
            return versions[^1];
        }

        foreach (var spec in versions)
        {
            if (spec.Version == version)
            {
                return spec;
            }
        }

        return null;
    }

    /// <summary>Loads every *.json spec in the folder; throws <see cref="ContractSpecException"/> naming the file and field on the first bad one.</summary>
    public static ContractCatalog LoadFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
        {
            throw new ContractSpecException(folder, "(folder)", "does not exist: the contracts folder must be present, even if empty.");
        }

        // Ordinal order so the first error reported and the "already defined in" file are the same on every host.
        var files = Directory.GetFiles(folder, "*.json", SearchOption.TopDirectoryOnly);
        Array.Sort(files, StringComparer.Ordinal);

        var specs = new ContractSpec[files.Length];
        for (var i = 0; i < files.Length; i++)
        {
            specs[i] = ContractSpecReader.ReadFile(files[i]);
        }

        return new ContractCatalog(specs);
    }
}
