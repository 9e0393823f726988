using MeterAgent.Ledger.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class WalCheckpointTests
{
    [Fact]
    public async Task The_writer_leaves_checkpoints_to_the_service_which_moves_the_wal_into_the_database()
    {
        using var directory = new TempFolder();
        var path = Path.Combine(directory.Path, "wal.db");
        await using var store = TestStore.Open(path);
        // One commit each: well past the 1000 frames at which SQLite's own auto-checkpoint would have run on the writer.
        // Closes: opens no longer go through SQLite (they are frames in the journal file).
        for (var i = 0; i < 1500; i++)
        {
            await store.Usage.CloseAsync(UsageRecords.Minimal());
        }

        var service = new WalCheckpointService(store.Database, store.Writer, TimeProvider.System, Options.Create(store.Database.Options), NullLogger<WalCheckpointService>.Instance);

        // The writer no longer checkpoints on its own, so every committed frame is still waiting in the WAL.
        var moved = service.CheckpointOnce();
        Assert.True(moved > 1000, $"the writer checkpointed on its own: only {moved} frames were left in the WAL");

        await store.Usage.CloseAsync(UsageRecords.Minimal());
        var records = await store.Usage.QueryAsync(new Usage.UsageQuery(Limit: 1000));
        Assert.Equal(1000, records.Count);
    }
}
