using System.Globalization;

namespace MeterAgent.Verify.Verifying;

/// <summary>
/// A copy of the log's API in a directory: <c>log/checkpoint</c>, <c>log/tile/...</c>, <c>log/statements/&lt;seq&gt;</c>.
/// The statements list cannot sit at <c>log/statements</c> beside a folder of that name, so it is read from
/// <c>log/statements.json</c> when there is one, and otherwise the envelopes in <c>log/statements/</c> are the list.
/// </summary>
internal sealed class DirectoryLogSource(string root) : ILogSource
{
    public const string ListFile = "log/statements.json";

    public Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = Path.Combine(root, path.Replace('/', Path.DirectorySeparatorChar));
        return Task.FromResult(File.Exists(file) ? File.ReadAllBytes(file) : null);
    }

    public async Task<IReadOnlyList<StatementListing>> ListStatementsAsync(CancellationToken cancellationToken)
    {
        if (await GetAsync(ListFile, cancellationToken) is { } list)
        {
            return StatementListJson.Read(list, ListFile).Statements;
        }

        var folder = Path.Combine(root, "log", "statements");
        if (!Directory.Exists(folder))
        {
            return [];
        }

        return
        [
            .. Directory.GetFiles(folder)
                .Select(Path.GetFileName)
                .Select(name => long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence > 0 ? sequence : 0)
                .Where(sequence => sequence > 0)
                .Order()
                .Select(sequence => new StatementListing(sequence)),
        ];
    }

    public void Dispose()
    {
    }
}
