using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Keeps the usage rollups (<see cref="UsageRollupSql"/>) close behind the records: every 100 ms it folds the rows
/// closed since, in writes of at most <see cref="Batch"/> rows queued on the shared writer like any other, so a request
/// never waits for more than one short fold. Nothing on the request's own write: a close stays one insert. A read
/// never depends on this being current (it adds the rows past the watermark itself); it only keeps that tail short.
/// </summary>
internal sealed partial class UsageRollupService(SqliteWriter writer, TimeProvider time, ILogger<UsageRollupService> logger) : BackgroundService
{
    // A fold holds the single writer for its whole write, and a core, ~2.7 µs a row: 5,000 rows took ~13.5 ms, long
    // enough to show in a reserve's tail at load. Once a second in writes of 1,000, a c=1 run's ~3,000 closes a second
    // were ~9 ms of fold in one burst, every second: the requests of that moment waited for a core on a two-core
    // machine, 1% of them, so the whole of the added p99. Ten times a second in writes of 200 (~0.5 ms), the same work
    // never holds a core for long.
    public const int Batch = 200;

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>Folds until the rollups have caught up; returns how many rows were passed.</summary>
    internal async Task<long> CatchUpAsync(CancellationToken cancellationToken)
    {
        long total = 0, passed;
        do
        {
            passed = await writer.SubmitAsync(new RollupFoldWrite(Batch), cancellationToken);
            total += passed;
        }
        while (passed >= Batch);

        return total;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await CatchUpAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Reads stay exact without it (they sum the rows past the watermark); the next tick tries again.
                    LogFoldFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is left is folded after the next start.
        }
    }

    [LoggerMessage(EventId = 1141, Level = LogLevel.Warning, Message = "Usage rollup fold failed; the next interval tries again")]
    private partial void LogFoldFailed(Exception exception);
}
