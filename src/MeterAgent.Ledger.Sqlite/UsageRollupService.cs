using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Keeps the usage rollups (<see cref="UsageRollupSql"/>) close behind the records: every second it folds the rows
/// closed since, in writes of at most <see cref="Batch"/> rows queued on the shared writer like any other, so a request
/// never waits for more than one short fold. Nothing on the request's own write: a close stays one insert. A read
/// never depends on this being current (it adds the rows past the watermark itself); it only keeps that tail short.
/// </summary>
internal sealed partial class UsageRollupService(SqliteWriter writer, TimeProvider time, ILogger<UsageRollupService> logger) : BackgroundService
{
    // A fold holds the single writer for its whole write, ~2.7 µs a row: 5,000 rows took ~13.5 ms, long enough to show
    // in a reserve's tail at load; 1,000 take ~3 ms, and the writer groups request writes between them.
    public const int Batch = 1_000;

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

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
