using MeterAgent.Attestation.Entries;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>The usage log holds closed records, each once, in the order they were appended; recovery fills any gap.</summary>
public sealed class UsageLogTests
{
    private static readonly DateTimeOffset T0 = UsageRecords.T0;

    [Fact]
    public async Task Appended_closed_records_are_entries_in_order_and_an_open_record_gets_none()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var log = new SqliteUsageLog(store.Database, store.Writer);
        var first = UsageRecords.Full(T0, UsageStatus.Completed);
        var second = UsageRecords.Minimal(startedAt: T0.AddSeconds(1));
        second.Status = UsageStatus.Rejected;
        second.EndedAt = T0.AddSeconds(2);
        var stillOpen = UsageRecords.Minimal(startedAt: T0.AddSeconds(3));

        await store.Usage.OpenAsync(first);
        await store.Usage.OpenAsync(stillOpen);
        Assert.Empty(await log.ReadAsync(0, 10));
        await store.Usage.CloseAsync(first);
        await store.Usage.CloseAsync(second);
        await log.AppendAsync([first, stillOpen]);
        await log.AppendAsync([second]);

        var entries = await log.ReadAsync(0, 10);
        Assert.Equal(2, entries.Count);
        var decoded = entries.Select(e => UsageEntryEncoding.Decode(e)).ToList();
        Assert.Equal([first.Id, second.Id], decoded.Select(e => e.UsageId));
        Assert.Equal(("completed", first.AccountId, first.ServedModel, first.ReferenceOutputTokens, first.RedeemedMicro ?? 0),
            (decoded[0].Status, decoded[0].AccountId, decoded[0].ServedModel, decoded[0].ReferenceOutputTokens, decoded[0].RedeemedMicro));
        Assert.Equal("rejected", decoded[1].Status);
        Assert.Equal([entries[1]], await log.ReadAsync(1, 10));
    }

    [Fact]
    public async Task A_record_appended_twice_keeps_its_first_place_and_bytes()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var log = new SqliteUsageLog(store.Database, store.Writer);
        var record = UsageRecords.Full(T0, UsageStatus.Completed);
        await store.Usage.CloseAsync(record);
        await log.AppendAsync([record]);
        var firstBytes = (await log.ReadAsync(0, 10)).Single();

        record.Error = "closed again by a retry";
        await store.Usage.CloseAsync(record);
        await log.AppendAsync([record]);

        Assert.Equal(firstBytes, (await log.ReadAsync(0, 10)).Single());
    }

    [Fact]
    public async Task An_entry_is_found_by_its_record_id_with_its_index_bytes_and_account_and_an_open_or_unknown_one_is_not()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var log = new SqliteUsageLog(store.Database, store.Writer);
        var first = UsageRecords.Full(T0, UsageStatus.Completed);
        var second = UsageRecords.Minimal("acct_0000000000000002", startedAt: T0.AddSeconds(1));
        second.Status = UsageStatus.Completed;
        second.EndedAt = T0.AddSeconds(2);
        var stillOpen = UsageRecords.Minimal(startedAt: T0.AddSeconds(3));
        await store.Usage.CloseAsync(first);
        await store.Usage.CloseAsync(second);
        await store.Usage.OpenAsync(stillOpen);
        await log.AppendAsync([first, second, stillOpen]);

        var found = await log.FindAsync(second.Id);

        Assert.NotNull(found);
        Assert.Equal((1L, "acct_0000000000000002"), (found.LeafIndex, found.AccountId));
        Assert.Equal((await log.ReadAsync(1, 1)).Single(), found.Entry);
        Assert.Equal((0L, first.AccountId), ((await log.FindAsync(first.Id))!.LeafIndex, (await log.FindAsync(first.Id))!.AccountId));
        Assert.Null(await log.FindAsync(stillOpen.Id));
        Assert.Null(await log.FindAsync("usage_never_logged"));
    }

    [Fact]
    public async Task Recovery_logs_what_it_closes_and_any_closed_record_the_log_lacks()
    {
        using var dir = new TempFolder();
        var closed = UsageRecords.Full(T0, UsageStatus.Completed);
        var crashed = UsageRecords.Minimal(startedAt: T0.AddSeconds(1));
        await using (var store = TestStore.Open(dir.DbPath))
        {
            // Closed, but the process stopped before its batch reached the log; another crashed mid-request.
            await store.Usage.CloseAsync(closed);
            await store.Usage.OpenAsync(crashed);
        }

        await using (var store = TestStore.Open(dir.DbPath))
        {
            Assert.Equal(1, await store.Usage.RecoverOpenAsync());
            var entries = (await new SqliteUsageLog(store.Database, store.Writer).ReadAsync(0, 10)).Select(e => UsageEntryEncoding.Decode(e)).ToList();
            Assert.Equal([(closed.Id, "completed"), (crashed.Id, "interrupted")], entries.Select(e => (e.UsageId, e.Status)));

            // A second recovery finds nothing more to log.
            Assert.Equal(0, await store.Usage.RecoverOpenAsync());
            Assert.Equal(2, (await new SqliteUsageLog(store.Database, store.Writer).ReadAsync(0, 10)).Count);
        }
    }
}
