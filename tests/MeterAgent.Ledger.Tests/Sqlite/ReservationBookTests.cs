using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;
using Microsoft.Data.Sqlite;
using static MeterAgent.Ledger.Tests.Credits.Credit;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>
/// The embedded store holds pending reservations in memory and writes each once, resolved, with its request's record: a
/// reserve writes nothing, yet is held against every later reserve and shown in the lots; a settlement gives back what it
/// will not post as soon as it is asked for; a crash or a stop loses the holds of the requests in flight and charges
/// them nothing.
/// </summary>
public sealed class ReservationBookTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    /// <summary>A store (gathering closes for up to 30 s when <paramref name="gather"/>), with an account holding one lot of 10 units.</summary>
    private static async Task<(TestStore Store, string AccountId, string LotId)> OpenAsync(string path, bool gather = true)
    {
        var store = gather ? TestStore.Open(path, configure: o => o.CloseGatherTime = TimeSpan.FromSeconds(30)) : TestStore.Open(path);
        var accountId = (await store.Accounts.CreateAccountAsync("Acme")).Id;
        var delivered = await store.Credits.ApplyDeliveryAsync(Notice(accountId, 10 * Unit), T0.AddHours(-1));
        Assert.Equal(DeliveryOutcomeKind.Applied, delivered.Kind);
        return (store, accountId, delivered.Lot!.LotId);
    }

    /// <summary>A request's record, opened (written ahead) as the proxy does before it reserves.</summary>
    private static async Task<UsageRecord> OpenRecordAsync(TestStore store, string accountId)
    {
        var record = UsageRecords.Minimal(accountId);
        await store.Usage.OpenAsync(record);
        return record;
    }

    private static UsageRecord Ended(UsageRecord record)
    {
        record.Status = UsageStatus.Completed;
        record.EndedAt = record.StartedAt.AddSeconds(1);
        return record;
    }

    /// <summary>The reservation's row and its lot's amounts in the file, on a connection of the test's own.</summary>
    private static (string? State, long Available, long Pending, long Redeemed) InFile(string path, string reservationId, string lotId)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT state FROM reservations WHERE reservation_id = $r), available, pending, redeemed
            FROM credit_lots WHERE lot_id = $l;
            """;
        command.Parameters.AddWithValue("$r", reservationId);
        command.Parameters.AddWithValue("$l", lotId);
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    [Fact]
    public async Task A_reserve_writes_nothing_yet_is_held_against_the_next_and_shown_to_readers()
    {
        using var dir = new TempFolder();
        var (store, accountId, lotId) = await OpenAsync(dir.DbPath);
        await using (store)
        {
            // The first reserve loads the account's lots (a write that reads); the next ones do not touch the writer.
            var first = await store.Credits.ReserveAsync(Request(accountId, 6 * Unit)).WaitAsync(Soon);
            Assert.True(first.Granted);
            var transactions = store.Writer.TransactionCount;

            // 4 units are left, not 10, so 6 more are refused (reject policy); 4 are granted.
            Assert.False((await store.Credits.ReserveAsync(Request(accountId, 6 * Unit)).WaitAsync(Soon)).Granted);
            var third = await store.Credits.ReserveAsync(Request(accountId, 4 * Unit)).WaitAsync(Soon);
            Assert.True(third.Granted);
            Assert.Equal(transactions, store.Writer.TransactionCount);

            // Readers of the ledger see the holds; the file has neither reservation.
            var held = await store.Credits.GetReservationAsync(first.Reservation!.ReservationId);
            Assert.Equal((ReservationState.Pending, 6 * Unit), (held!.State, held.ReservedMicro));
            var lot = Assert.Single(await store.Credits.GetLotsAsync(accountId));
            Assert.Equal((0L, 10 * Unit, 0L), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
            Assert.Equal(2, (await store.Credits.GetPendingReservationsAsync(accountId, 10)).Count);
            Assert.Equal((null, 10 * Unit, 0L, 0L), InFile(dir.DbPath, first.Reservation.ReservationId, lotId));
        }
    }

    [Fact]
    public async Task The_settlement_writes_the_reservation_once_resolved_with_its_record()
    {
        using var dir = new TempFolder();
        var (store, accountId, lotId) = await OpenAsync(dir.DbPath, gather: false);
        string reservationId;
        await using (store)
        {
            var record = await OpenRecordAsync(store, accountId);
            var reservation = (await store.Credits.ReserveAsync(Request(accountId, 6 * Unit, reservationId: record.Id)).WaitAsync(Soon)).Reservation!;
            reservationId = reservation.ReservationId;

            var settled = await store.Credits.SettleAndCloseAsync(reservation, 2 * Unit, Ended(record)).WaitAsync(Soon);

            Assert.Equal((ReservationState.Posted, 2 * Unit), (settled.State, settled.PostedMicro));
            Assert.Equal(("posted", 8 * Unit, 0L, 2 * Unit), InFile(dir.DbPath, reservationId, lotId));
            var closed = await store.Usage.GetAsync(record.Id);
            Assert.Equal((UsageStatus.Completed, 2 * Unit), (closed!.Status, closed.RedeemedMicro));
        }

        // Read back from the file after a restart, and a reserve of the same id again returns it as it ended.
        await using var reopened = TestStore.Open(dir.DbPath);
        var stored = await reopened.Credits.GetReservationAsync(reservationId);
        Assert.Equal((ReservationState.Posted, 6 * Unit, 2 * Unit), (stored!.State, stored.ReservedMicro, stored.PostedMicro));
        Assert.Equal([new LotDraw(lotId, 6 * Unit, 2 * Unit)], stored.Draws);
        var again = await reopened.Credits.ReserveAsync(Request(accountId, 9 * Unit, reservationId: reservationId));
        Assert.Equal((true, ReservationState.Posted), (again.Granted, again.Reservation!.State));
        Assert.Equal(8 * Unit, Assert.Single(await reopened.Credits.GetLotsAsync(accountId)).AvailableMicro);
    }

    /// <summary>
    /// A reserve reads the database for a stored reservation only when its id is not above every id the database can
    /// hold (the proxy's ids are time-ordered): an id settled earlier in this run, or stored below the newest, must still
    /// be found, or a replayed reserve would hold (and post) the credits twice.
    /// </summary>
    [Fact]
    public async Task A_reserve_of_an_id_already_written_returns_it_as_it_ended_in_this_run_and_after_a_restart()
    {
        using var dir = new TempFolder();
        var (store, accountId, lotId) = await OpenAsync(dir.DbPath, gather: false);
        string[] ids = [Guid.CreateVersion7(T0.AddSeconds(-2)).ToString("N"), Guid.CreateVersion7(T0.AddSeconds(-1)).ToString("N")];
        await using (store)
        {
            // The first reserve reads the table's newest id (none); each id is then settled, committed and forgotten by
            // the book, and reserved again with an estimate the lot could still grant.
            foreach (var id in ids)
            {
                Assert.True((await store.Credits.ReserveAsync(Request(accountId, 2 * Unit, reservationId: id)).WaitAsync(Soon)).Granted);
                Assert.Equal(ReservationState.Posted, (await store.Credits.PostAsync(id, 1 * Unit).WaitAsync(Soon)).State);

                var again = await store.Credits.ReserveAsync(Request(accountId, 3 * Unit, reservationId: id)).WaitAsync(Soon);
                Assert.Equal((true, ReservationState.Posted, 1 * Unit), (again.Granted, again.Reservation!.State, again.Reservation.PostedMicro));
            }

            Assert.Equal((8 * Unit, 0L), LotNow(await store.Credits.GetLotsAsync(accountId)));
        }

        // After a restart the newest stored id bounds the ids that need a read: the older one is below it, the newer one
        // is it. Both come back as they ended; a new id below the newest, never stored, is granted afresh.
        await using var reopened = TestStore.Open(dir.DbPath);
        foreach (var id in ids.Reverse())
        {
            var again = await reopened.Credits.ReserveAsync(Request(accountId, 3 * Unit, reservationId: id)).WaitAsync(Soon);
            Assert.Equal((true, ReservationState.Posted, 2 * Unit), (again.Granted, again.Reservation!.State, again.Reservation.ReservedMicro));
        }

        var below = Guid.CreateVersion7(T0.AddSeconds(-3)).ToString("N");
        var fresh = await reopened.Credits.ReserveAsync(Request(accountId, 3 * Unit, reservationId: below)).WaitAsync(Soon);
        Assert.Equal((true, ReservationState.Pending, 3 * Unit), (fresh.Granted, fresh.Reservation!.State, fresh.Reservation.ReservedMicro));
        Assert.Equal((5 * Unit, 3 * Unit), LotNow(await reopened.Credits.GetLotsAsync(accountId)));
        Assert.Equal(("posted", 8 * Unit, 0L, 2 * Unit), InFile(dir.DbPath, ids[1], lotId));
    }

    private static (long Available, long Pending) LotNow(IReadOnlyList<CreditLot> lots)
    {
        var lot = Assert.Single(lots);
        return (lot.AvailableMicro, lot.PendingMicro);
    }

    [Fact]
    public async Task A_settlement_asked_for_gives_back_what_it_will_not_post_before_it_is_written()
    {
        using var dir = new TempFolder();
        var (store, accountId, lotId) = await OpenAsync(dir.DbPath);
        await using (store)
        {
            // Other requests in flight, and a commit moments ago: the settlement below is held for the closes behind it.
            await OpenRecordAsync(store, accountId);
            await OpenRecordAsync(store, accountId);
            await new MeterAgent.Ledger.Sqlite.SqliteWriteProbe(store.Writer).ProbeWriteAsync(CancellationToken.None);

            var record = await OpenRecordAsync(store, accountId);
            var first = (await store.Credits.ReserveAsync(Request(accountId, 6 * Unit, reservationId: record.Id)).WaitAsync(Soon)).Reservation!;

            // The request ends having used 2 of its 6: its settlement is asked for and not committed (the writer may
            // have run it in the transaction it holds open for the closes behind it)...
            var settling = store.Credits.SettleAndCloseAsync(first, 2 * Unit, Ended(record));
            await Task.Delay(100);
            Assert.False(settling.IsCompleted, "the settlement is held for the closes behind it");

            // ...and the next request's reserve counts it already: 8 of the 10 are left, not 4.
            var next = await store.Credits.ReserveAsync(Request(accountId, 8 * Unit)).WaitAsync(Soon);
            Assert.True(next.Granted, "the settlement asked for first gave back the 4 units it does not post");
            Assert.False((await store.Credits.ReserveAsync(Request(accountId, 1)).WaitAsync(Soon)).Granted);
            // The lot shows nothing available: 8 pending for the next request, and the settlement's 2 pending or, once the
            // writer has run it, redeemed.
            var lot = Assert.Single(await store.Credits.GetLotsAsync(accountId));
            Assert.Equal((0L, 10 * Unit), (lot.AvailableMicro, lot.PendingMicro + lot.RedeemedMicro));
            Assert.Contains(lot.RedeemedMicro, new[] { 0L, 2 * Unit });
            Assert.False(settling.IsCompleted);

            // Stopping commits the settlement; the reserve still pending is not written.
            await store.DisposeAsync();
            Assert.Equal(ReservationState.Posted, (await settling.WaitAsync(Soon)).State);
            Assert.Equal((null, 8 * Unit, 0L, 2 * Unit), InFile(dir.DbPath, next.Reservation!.ReservationId, lotId));
        }
    }

    [Fact]
    public async Task A_crash_loses_the_holds_of_the_requests_in_flight_and_charges_them_nothing()
    {
        using var dir = new TempFolder();
        using var crashed = new TempFolder();
        var (store, accountId, _) = await OpenAsync(dir.DbPath);
        UsageRecord record;
        await using (store)
        {
            record = await OpenRecordAsync(store, accountId);
            var granted = await store.Credits.ReserveAsync(Request(accountId, 6 * Unit, reservationId: record.Id)).WaitAsync(Soon);
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

        // After the crash the lot is whole: nothing pending to wait out, nothing redeemed; the request in flight is
        // recovered as interrupted, never charged, and its reservation is unknown.
        await using var restarted = TestStore.Open(crashed.DbPath);
        Assert.Equal(1, await restarted.Usage.RecoverOpenAsync());
        var lot = Assert.Single(await restarted.Credits.GetLotsAsync(accountId));
        Assert.Equal((10 * Unit, 0L, 0L), (lot.AvailableMicro, lot.PendingMicro, lot.RedeemedMicro));
        Assert.Empty(await restarted.Credits.GetPendingReservationsAsync(accountId, 10));
        Assert.Null(await restarted.Credits.GetReservationAsync(record.Id));
        var recovered = await restarted.Usage.GetAsync(record.Id);
        Assert.Equal((UsageStatus.Interrupted, (long?)null), (recovered!.Status, recovered.RedeemedMicro));
    }

    [Fact]
    public async Task A_correction_decides_against_the_holds_even_while_reserves_race_it()
    {
        using var dir = new TempFolder();
        var (store, accountId, lotId) = await OpenAsync(dir.DbPath);
        await using (store)
        {
            // Reserves of 1 unit race a correction taking back 5 of the 10: whichever order they run in, the lot never
            // holds more than it has, and no reserve is granted what the correction took.
            Assert.True((await store.Credits.ReserveAsync(Request(accountId, 1)).WaitAsync(Soon)).Granted);
            var reserves = Enumerable.Range(0, 12).Select(_ => Task.Run(() => store.Credits.ReserveAsync(Request(accountId, 1 * Unit)))).ToList();
            var correction = Task.Run(() => store.Credits.CorrectAsync(lotId, -5 * Unit, "duplicate delivery", T0));
            var granted = (await Task.WhenAll(reserves).WaitAsync(Soon)).Count(o => o.Granted);
            var corrected = await correction.WaitAsync(Soon);

            var lot = Assert.Single(await store.Credits.GetLotsAsync(accountId));
            Assert.True(lot.IsBalanced, lot.ToString());
            Assert.Equal(1 + (granted * Unit), lot.PendingMicro);
            Assert.Equal(corrected is null ? 10 * Unit : 5 * Unit, lot.DeliveredMicro);
            Assert.InRange(granted, corrected is null ? 9 : 4, corrected is null ? 9 : 4);
        }
    }
}
