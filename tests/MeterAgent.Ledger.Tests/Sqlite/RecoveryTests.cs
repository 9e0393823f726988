using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Time.Testing;
using static MeterAgent.Ledger.Tests.Sqlite.UsageRecords;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class RecoveryTests
{
    [Fact]
    public async Task Records_left_open_are_closed_as_interrupted_by_the_next_store_on_the_file()
    {
        using var dir = new TempFolder();
        var open1 = Full(T0);
        var open2 = Minimal(startedAt: T0.AddSeconds(1));
        var closed = Full(T0.AddSeconds(2), UsageStatus.Completed);
        await using (var first = TestStore.Open(dir.DbPath))
        {
            await first.Usage.OpenAsync(open1);
            await first.Usage.OpenAsync(open2);
            await first.Usage.OpenAsync(closed);
            await first.Usage.CloseAsync(closed);
        }

        var restart = T0.AddHours(1);
        await using var second = TestStore.Open(dir.DbPath, new FakeTimeProvider(restart));

        Assert.Equal(2, await second.Usage.RecoverOpenAsync());

        foreach (var record in new[] { open1, open2 })
        {
            var stored = await second.Usage.GetAsync(record.Id);
            Assert.Equal(UsageStatus.Interrupted, stored!.Status);
            Assert.Equal(restart, stored.EndedAt);
            Assert.Equal("agent stopped before the request ended", stored.Error);
            Assert.Equal(record.AccountId, stored.AccountId);
            Assert.Equal(record.StartedAt, stored.StartedAt);
        }

        AssertSame(closed, await second.Usage.GetAsync(closed.Id));
        Assert.Equal(0, await second.Usage.RecoverOpenAsync());
    }

    [Fact]
    public async Task Recovery_on_the_same_store_closes_what_is_open_in_one_transaction()
    {
        using var dir = new TempFolder();
        await using var store = TestStore.Open(dir.DbPath);
        for (var i = 0; i < 5; i++)
        {
            await store.Usage.OpenAsync(Minimal(startedAt: T0.AddSeconds(i)));
        }

        var transactionsBefore = store.Usage.TransactionCount;

        Assert.Equal(5, await store.Usage.RecoverOpenAsync());
        Assert.Equal(transactionsBefore + 1, store.Usage.TransactionCount);
        var all = await store.Usage.QueryAsync(new UsageQuery());
        Assert.All(all, r => Assert.Equal(UsageStatus.Interrupted, r.Status));
    }

    [Fact]
    public async Task An_awaited_open_is_visible_to_a_fresh_store_though_the_first_is_never_disposed()
    {
        using var dir = new TempFolder();

        // Never disposed: no flush, no checkpoint, as after a crash.
        var crashed = TestStore.Open(dir.DbPath);
        var record = Full(T0);
        await crashed.Usage.OpenAsync(record);

        await using var next = TestStore.Open(dir.DbPath);
        var stored = await next.Usage.GetAsync(record.Id);
        Assert.Equal(UsageStatus.Open, stored!.Status);
        Assert.Equal(1, await next.Usage.RecoverOpenAsync());
        Assert.Equal(UsageStatus.Interrupted, (await next.Usage.GetAsync(record.Id))!.Status);
    }

    [Fact]
    public async Task An_awaited_open_survives_in_the_files_a_killed_process_would_leave()
    {
        using var dir = new TempFolder();
        var crashed = TestStore.Open(dir.DbPath);
        var record = Full(T0);
        await crashed.Usage.OpenAsync(record);

        // What kill -9 leaves is exactly what is in the files now (the OS keeps written pages): copy the database, its
        // WAL and the opens' journal folder, but not the shared-memory index, which a new process rebuilds from the WAL.
        using var copy = new TempFolder();
        File.Copy(dir.DbPath, copy.DbPath);
        Assert.True(File.Exists(dir.DbPath + "-wal"));
        File.Copy(dir.DbPath + "-wal", copy.DbPath + "-wal");
        var journal = JournalFrames.FolderFor(dir.DbPath);
        Assert.True(Directory.Exists(journal));
        Directory.CreateDirectory(JournalFrames.FolderFor(copy.DbPath));
        foreach (var segment in Directory.GetFiles(journal))
        {
            File.Copy(segment, Path.Combine(JournalFrames.FolderFor(copy.DbPath), Path.GetFileName(segment)));
        }

        await using var restarted = TestStore.Open(copy.DbPath);
        Assert.Equal(UsageStatus.Open, (await restarted.Usage.GetAsync(record.Id))!.Status);
        Assert.Equal(1, await restarted.Usage.RecoverOpenAsync());
        var recovered = await restarted.Usage.GetAsync(record.Id);
        Assert.Equal(UsageStatus.Interrupted, recovered!.Status);
        Assert.Equal(SqliteUsageStore.InterruptedError, recovered.Error);
    }
}
