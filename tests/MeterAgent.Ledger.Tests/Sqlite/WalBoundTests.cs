using System.Diagnostics;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace MeterAgent.Ledger.Tests.Sqlite;

public sealed class WalBoundTests(ITestOutputHelper output)
{
    private const int Callers = 32;
    private const long Limit = 64L * 1024 * 1024;

    [Fact]
    public async Task Under_sustained_concurrent_load_the_wal_stays_under_its_limit()
    {
        using var directory = new TempFolder();
        var path = Path.Combine(directory.Path, "wal-bound.db");
        await using var store = TestStore.Open(path);
        Assert.Equal(Limit, store.Database.Options.WalLimitBytes);

        // As in production: the time-based passive checkpoints run alongside the writer, on their own connection.
        using var checkpoints = new WalCheckpointService(
            store.Database, store.Writer, TimeProvider.System, Options.Create(store.Database.Options), NullLogger<WalCheckpointService>.Instance);
        await checkpoints.StartAsync(CancellationToken.None);

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        long requests = 0;
        var callers = Enumerable.Range(0, Callers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var record = UsageRecords.Minimal(startedAt: DateTimeOffset.UtcNow);
                await store.Usage.OpenAsync(record);
                record.Status = UsageStatus.Completed;
                record.EndedAt = DateTimeOffset.UtcNow;
                record.ReferenceOutputTokens = 16;
                await store.Usage.CloseAsync(record);
                Interlocked.Increment(ref requests);
            }
        })).ToArray();

        long largest = 0;
        var wal = path + "-wal";
        var clock = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            var info = new FileInfo(wal);
            if (info.Exists)
            {
                largest = Math.Max(largest, info.Length);
            }

            await Task.Delay(20, CancellationToken.None);
        }

        await Task.WhenAll(callers);
        await checkpoints.StopAsync(CancellationToken.None);
        output.WriteLine($"{requests} requests in {clock.Elapsed.TotalSeconds:F1} s; largest WAL {largest / (1024.0 * 1024):F1} MiB");

        // Enough load to matter: unbounded, this many requests write several times the limit of WAL.
        Assert.True(requests > 20_000, $"only {requests} requests ran");
        Assert.True(store.Writer.WalCheckpointCount > 0, "the writer never finished a checkpoint");
        Assert.True(largest < Limit, $"the WAL reached {largest} bytes, over the {Limit}-byte limit");
    }
}
