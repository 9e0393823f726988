using MeterAgent.Ledger.Tests.Credits;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class SharedWriterTests : LedgerContract
{
    private readonly SqliteLedgerStores _stores = new();

    private TestStore Store => _stores.Store;

    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(_stores);

    [Fact]
    public async Task Reservations_and_usage_writes_share_group_commits()
    {
        await DeliverAsync(1000 * Unit);
        var before = Store.Usage.TransactionCount;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var requests = Enumerable.Range(0, 500).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var record = UsageRecords.Minimal(AccountId, UsageRecords.T0.AddMilliseconds(i));
            var reserved = await Ledger.ReserveAsync(Request(AccountId, Unit));
            await Store.Usage.OpenAsync(record);
            await Ledger.PostAsync(reserved.Reservation!.ReservationId, Unit / 2);
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(requests);

        var transactions = Store.Usage.TransactionCount - before;
        Assert.True(transactions < 1500 / 2, $"{transactions} transactions for 1500 writes");
        var lot = Assert.Single(await Ledger.GetLotsAsync(AccountId));
        Assert.Equal((750 * Unit, 0L, 250 * Unit), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
    }

    [Fact]
    public async Task A_failing_ledger_operation_fails_alone_and_the_writes_queued_with_it_commit()
    {
        await DeliverAsync(100 * Unit);
        var records = Enumerable.Range(0, 40).Select(i => UsageRecords.Minimal(AccountId, UsageRecords.T0.AddMilliseconds(i))).ToList();

        // Queued together without awaiting in between, so they are likely to share a transaction.
        var opens = records.Take(20).Select(r => Store.Usage.OpenAsync(r).AsTask()).ToList();
        var reserve = Ledger.ReserveAsync(Request(AccountId, 3 * Unit));
        var unknown = Ledger.PostAsync("res_missing", Unit);
        opens.AddRange(records.Skip(20).Select(r => Store.Usage.OpenAsync(r).AsTask()));

        await Assert.ThrowsAsync<KeyNotFoundException>(() => unknown);
        await Task.WhenAll(opens);
        Assert.True((await reserve).Granted);
        foreach (var record in records)
        {
            Assert.NotNull(await Store.Usage.GetAsync(record.Id));
        }

        Assert.Equal(3 * Unit, Assert.Single(await Ledger.GetLotsAsync(AccountId)).PendingMicro);
    }
}
