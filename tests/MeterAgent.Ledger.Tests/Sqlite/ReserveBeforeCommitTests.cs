using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>
/// A reserve while other requests are in flight runs in the transaction the writer holds open to gather closes, and is
/// answered before that commit: what it holds is committed with the closes, and it is spent from like any other hold.
/// </summary>
public sealed class ReserveBeforeCommitTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    /// <summary>A store gathering closes for up to 30 s, with an account holding one lot of 10 units.</summary>
    private static async Task<(TestStore Store, string AccountId)> OpenAsync(string path)
    {
        var store = TestStore.Open(path, configure: o => o.CloseGatherTime = TimeSpan.FromSeconds(30));
        var accountId = (await store.Accounts.CreateAccountAsync("Acme")).Id;
        var delivered = await store.Credits.ApplyDeliveryAsync(Notice(accountId, 10 * Unit), T0.AddHours(-1));
        Assert.Equal(DeliveryOutcomeKind.Applied, delivered.Kind);
        return (store, accountId);
    }

    /// <summary>Requests in flight (their records open), then a close held for the closes behind it.</summary>
    private static async Task<Task> GatherBehindOpenRequestsAsync(TestStore store, string accountId, int inFlight)
    {
        for (var i = 0; i < inFlight; i++)
        {
            await store.Usage.OpenAsync(UsageRecords.Minimal(accountId));
        }

        // A commit moments ago (a write that is never held), so the next close is held for others to share its commit.
        await new MeterAgent.Ledger.Sqlite.SqliteWriteProbe(store.Writer).ProbeWriteAsync(CancellationToken.None);
        var gathering = store.Usage.CloseAsync(Closed(accountId)).AsTask();
        await Task.Delay(100);
        Assert.False(gathering.IsCompleted, "the close is held for the closes behind it");
        return gathering;
    }

    private static UsageRecord Closed(string accountId)
    {
        var record = UsageRecords.Minimal(accountId);
        record.Status = UsageStatus.Completed;
        record.EndedAt = record.StartedAt.AddSeconds(1);
        return record;
    }

    [Fact]
    public async Task Granted_before_the_commit_it_is_held_against_the_next_reserve_and_committed_with_the_closes()
    {
        using var dir = new TempFolder();
        var (store, accountId) = await OpenAsync(dir.DbPath);
        await using (store)
        {
            var gathering = await GatherBehindOpenRequestsAsync(store, accountId, inFlight: 2);
            var transactions = store.Writer.TransactionCount;

            var first = await store.Credits.ReserveAsync(Request(accountId, 6 * Unit)).WaitAsync(Soon);
            Assert.True(first.Granted);

            // Answered without a commit: the close is still held, and other connections do not see the hold yet.
            Assert.Equal(transactions, store.Writer.TransactionCount);
            Assert.False(gathering.IsCompleted);
            Assert.Null(await store.Credits.GetReservationAsync(first.Reservation!.ReservationId));

            // The next reserve sees it all the same: 4 units are left, not 10, so 6 more are refused (reject policy).
            var second = await store.Credits.ReserveAsync(Request(accountId, 6 * Unit)).WaitAsync(Soon);
            Assert.False(second.Granted);
            var third = await store.Credits.ReserveAsync(Request(accountId, 4 * Unit)).WaitAsync(Soon);
            Assert.True(third.Granted);
        }

        // Stopping commits the gathered batch: both holds are in the file.
        await using var reopened = TestStore.Open(dir.DbPath);
        var lot = (await reopened.Credits.GetLotsAsync(accountId)).Single();
        Assert.Equal((0L, 10 * Unit, 0L), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
    }

    [Fact]
    public async Task A_reserve_decides_after_the_settlement_queued_before_it()
    {
        using var dir = new TempFolder();
        var (store, accountId) = await OpenAsync(dir.DbPath);
        await using (store)
        {
            var gathering = await GatherBehindOpenRequestsAsync(store, accountId, inFlight: 2);
            var record = UsageRecords.Minimal(accountId);
            await store.Usage.OpenAsync(record);
            var first = (await store.Credits.ReserveAsync(Request(accountId, 6 * Unit, reservationId: record.Id)).WaitAsync(Soon)).Reservation!;

            // The request ends having used 2 of its 6: its settlement is queued (held with the closes, not yet run)...
            record.Status = UsageStatus.Completed;
            record.EndedAt = record.StartedAt.AddSeconds(1);
            var settling = store.Credits.SettleAndCloseAsync(first, 2 * Unit, record);

            // ...and the next request's reserve runs after it: 8 of the 10 are left, not 4.
            var next = await store.Credits.ReserveAsync(Request(accountId, 8 * Unit)).WaitAsync(Soon);
            Assert.True(next.Granted, "the settlement queued first returned the 4 units it did not use");
            Assert.False(gathering.IsCompleted);
            await store.DisposeAsync();
            Assert.Equal(ReservationState.Posted, (await settling.WaitAsync(Soon)).State);
        }

        await using var reopened = TestStore.Open(dir.DbPath);
        var lot = (await reopened.Credits.GetLotsAsync(accountId)).Single();
        Assert.Equal((0L, 8 * Unit, 2 * Unit), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
    }

    [Fact]
    public async Task A_crash_before_the_commit_loses_the_hold_with_the_requests_in_flight_and_charges_nothing()
    {
        using var dir = new TempFolder();
        using var crashed = new TempFolder();
        var (store, accountId) = await OpenAsync(dir.DbPath);
        await using (store)
        {
            _ = await GatherBehindOpenRequestsAsync(store, accountId, inFlight: 2);
            var granted = await store.Credits.ReserveAsync(Request(accountId, 6 * Unit)).WaitAsync(Soon);
            Assert.True(granted.Granted);

            // The files as kill -9 would leave them now: the database, its WAL and the opens' journal (not the shared
            // memory index, which SQLite rebuilds from the WAL).
            foreach (var file in Directory.GetFiles(dir.Path).Where(f => !f.EndsWith("-shm", StringComparison.Ordinal)))
            {
                File.Copy(file, crashed.File(Path.GetFileName(file)));
            }

            var journal = dir.DbPath + ".journal";
            Directory.CreateDirectory(crashed.DbPath + ".journal");
            foreach (var segment in Directory.GetFiles(journal))
            {
                File.Copy(segment, Path.Combine(crashed.DbPath + ".journal", Path.GetFileName(segment)));
            }
        }

        // After the crash the lot is whole: nothing pending to wait out, nothing redeemed; the requests in flight are
        // recovered as interrupted, never charged.
        await using var restarted = TestStore.Open(crashed.DbPath);
        var lot = (await restarted.Credits.GetLotsAsync(accountId)).Single();
        Assert.Equal((10 * Unit, 0L, 0L), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
        Assert.Empty(await restarted.Credits.GetPendingReservationsAsync(accountId, 10));
    }

    [Fact]
    public async Task A_lone_reserve_is_committed_before_its_answer()
    {
        using var dir = new TempFolder();
        var (store, accountId) = await OpenAsync(dir.DbPath);
        await using (store)
        {
            // Nothing in flight (an admin tool, a test): no closes to share a commit with, so it ends the gathering and
            // its caller reads its own hold on any connection.
            var gathering = await GatherBehindOpenRequestsAsync(store, accountId, inFlight: 0);

            var granted = await store.Credits.ReserveAsync(Request(accountId, 6 * Unit)).WaitAsync(Soon);

            Assert.True(granted.Granted);
            await gathering.WaitAsync(Soon);
            var stored = await store.Credits.GetReservationAsync(granted.Reservation!.ReservationId);
            Assert.Equal((ReservationState.Pending, 6 * Unit), (stored!.State, stored.ReservedMicro));
        }
    }
}
