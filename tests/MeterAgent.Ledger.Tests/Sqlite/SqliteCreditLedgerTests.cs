using MeterAgent.Ledger.Tests.Credits;

namespace MeterAgent.Ledger.Tests.Sqlite;

// The behavioural suite (Credits/) bound to the SQLite backend: each class runs the contract's tests against a fresh
// store file, plus what only this backend can show (its tables). A second backend adds a file like this one.

public sealed class SqliteCorrectionTests : CorrectionTests
{
    private readonly SqliteLedgerStores _stores = new();

    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(_stores);

    protected override (long Delta, string Reason, long At)[] Audit(string lotId)
    {
        using var connection = _stores.Store.Database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT delta, reason, at FROM lot_corrections WHERE lot_id = @lot ORDER BY id;";
        command.Parameters.AddWithValue("@lot", lotId);
        using var reader = command.ExecuteReader();
        var rows = new List<(long, string, long)>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return [.. rows];
    }
}

public sealed class SqliteDeliveryTests : DeliveryTests
{
    private readonly SqliteLedgerStores _stores = new();

    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(_stores);

    [Fact]
    public async Task A_replay_keeps_one_delivery_row_and_a_refusal_none()
    {
        var notice = Credit.Notice(AccountId, 10 * Credit.Unit);
        await Ledger.ApplyDeliveryAsync(notice, Credit.T0);
        await Ledger.ApplyDeliveryAsync(notice, Credit.T0.AddMinutes(1));
        await Ledger.ApplyDeliveryAsync(Credit.Notice("acct_ffffffffffffffff", 10 * Credit.Unit), Credit.T0);

        Assert.Equal(1L, _stores.Scalar("SELECT count(*) FROM deliveries;"));
        Assert.Equal(1L, _stores.Scalar("SELECT count(*) FROM credit_lots;"));
    }
}

public sealed class SqlitePolicyTests : PolicyTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(new SqliteLedgerStores());
}

public sealed class SqliteRedemptionOrderTests : RedemptionOrderTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(new SqliteLedgerStores());
}

public sealed class SqliteReservationLifecycleTests : ReservationLifecycleTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(new SqliteLedgerStores());
}

public sealed class SqliteSettleAndCloseTests : SettleAndCloseTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(new SqliteLedgerStores());
}

public sealed class SqliteLedgerInvariantTests : LedgerInvariantTests
{
    protected override ILedgerStores OpenStores() => new SqliteLedgerStores();
}
