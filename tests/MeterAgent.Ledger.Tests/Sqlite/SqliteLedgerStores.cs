using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Tests.Credits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>The SQLite backend for the behavioural suite: a store over a fresh file in a folder of its own.</summary>
internal sealed class SqliteLedgerStores : ILedgerStores
{
    private readonly TempFolder _dir = new();

    public SqliteLedgerStores()
    {
        Store = TestStore.Open(_dir.DbPath);
    }

    /// <summary>The SQLite objects themselves, for the checks only this backend can make (its tables).</summary>
    public TestStore Store { get; }

    public IAccountStore Accounts => Store.Accounts;

    public IUsageStore Usage => Store.Usage;

    public ICreditLedger Ledger => Store.Credits;

    public object? Scalar(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = Store.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteScalar();
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        _dir.Dispose();
    }
}
