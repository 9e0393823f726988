using System.Text.Json;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using static MeterAgent.Ledger.Tests.Sqlite.UsageRecords;

namespace MeterAgent.Ledger.Tests.Sqlite;

/// <summary>The write-ahead journal: what an open writes, what reads see of it, and that closed opens go away.</summary>
public sealed class UsageJournalTests
{
    [Fact]
    public void The_journal_record_keeps_every_field_but_the_status()
    {
        var record = Full(T0);
        record.LotIds = ["lot-a", "lot-ü"];
        record.UnitsBasis = "native_floored";
        record.Flags = "clamped,partial";
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        UsageJournalCodec.Encode(record, buffer);

        var decoded = UsageJournalCodec.Decode(buffer.WrittenSpan);

        Assert.Equal(UsageStatus.Open, decoded.Status);
        decoded.Status = record.Status;
        Assert.Equal(JsonSerializer.Serialize(record), JsonSerializer.Serialize(decoded));
    }

    [Fact]
    public async Task Queries_see_open_records_merged_newest_first_under_the_limit_and_filters()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var closed = Minimal(startedAt: T0);
        closed.Status = UsageStatus.Completed;
        await store.Usage.CloseAsync(closed);
        var older = Minimal(startedAt: T0.AddMinutes(-1));
        var newer = Minimal(startedAt: T0.AddMinutes(1));
        var other = Minimal("acct_0000000000000002", T0.AddMinutes(2));
        foreach (var record in new[] { older, newer, other })
        {
            await store.Usage.OpenAsync(record);
        }

        var all = await store.Usage.QueryAsync(new UsageQuery(Limit: 10));
        Assert.Equal([other.Id, newer.Id, closed.Id, older.Id], all.Select(r => r.Id));
        Assert.Equal([UsageStatus.Open, UsageStatus.Open, UsageStatus.Completed, UsageStatus.Open], all.Select(r => r.Status));

        var top = await store.Usage.QueryAsync(new UsageQuery(AccountId: closed.AccountId, Limit: 2));
        Assert.Equal([newer.Id, closed.Id], top.Select(r => r.Id));

        var page = await store.Usage.QueryAsync(new UsageQuery(AccountId: closed.AccountId, Limit: 10, Before: closed.Id, From: T0.AddMinutes(-1)));
        Assert.Equal([older.Id], page.Select(r => r.Id));
    }

    [Fact]
    public async Task A_closed_record_reads_closed_once_and_its_journal_open_is_released()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        var journal = store.Writer.Journal;
        var record = Minimal();
        await store.Usage.OpenAsync(record);
        await store.Usage.OpenAsync(record);
        Assert.Equal(2, journal.FrameCount);
        Assert.Equal(1, journal.OpenCount);
        Assert.Single(await store.Usage.QueryAsync(new UsageQuery(Limit: 10)));

        record.Status = UsageStatus.Completed;
        await store.Usage.CloseAsync(record);
        var read = Assert.Single(await store.Usage.QueryAsync(new UsageQuery(Limit: 10)));
        Assert.Equal(UsageStatus.Completed, read.Status);
        Assert.Equal(UsageStatus.Completed, (await store.Usage.GetAsync(record.Id))!.Status);

        // The close's commit released both of its frames at once.
        Assert.Equal(0, journal.OpenCount);
        await store.Usage.OpenAsync(Minimal());
        await store.Usage.OpenAsync(Minimal());
        Assert.Equal(2, journal.OpenCount);
        Assert.Equal(2, await store.Usage.RecoverOpenAsync());
        Assert.Equal(0, journal.OpenCount);
    }
}
