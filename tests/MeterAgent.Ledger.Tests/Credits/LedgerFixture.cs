using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Tests.Sqlite;

namespace MeterAgent.Ledger.Tests.Credits;

/// <summary>A fresh store file and one account per test (xunit makes a test class instance per test).</summary>
public abstract class LedgerFixture : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();

    internal TestStore Store { get; private set; } = null!;

    internal SqliteCreditLedger Ledger => Store.Credits;

    protected string AccountId { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Store = TestStore.Open(_dir.DbPath);
        AccountId = (await Store.Accounts.CreateAccountAsync("Acme")).Id;
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        _dir.Dispose();
    }

    protected async Task<string> DeliverAsync(long quantityMicro, string contractId = "gpt4o-2026q1", DateTimeOffset? windowStart = null, DateTimeOffset? windowEnd = null, DateTimeOffset? deliveredAt = null)
    {
        var outcome = await Ledger.ApplyDeliveryAsync(
            Credit.Notice(AccountId, quantityMicro, contractId, windowStart, windowEnd),
            deliveredAt ?? Credit.T0.AddHours(-1));
        Assert.Equal(MeterAgent.Ledger.Credits.DeliveryOutcomeKind.Applied, outcome.Kind);
        return outcome.Lot!.LotId;
    }

    protected object? Scalar(string sql, params (string Name, object Value)[] parameters)
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
}
