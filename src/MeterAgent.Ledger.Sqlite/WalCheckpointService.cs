using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Checkpoints the WAL into the database file every <see cref="SqliteStoreOptions.CheckpointInterval"/> on a
/// connection of its own, so the writer (and the requests waiting on it) never pays for the copy and its fsync.
/// PASSIVE mode never blocks writers or readers; once a checkpoint has caught up, SQLite restarts the WAL from the
/// beginning on the next write, so the file does not grow without bound.
/// </summary>
/// <remarks>
/// Under continuous writes a passive checkpoint never catches up with the last frames, so the WAL would never restart.
/// So the WAL's length is also looked at every <see cref="SizeCheck"/>: past half of
/// <see cref="SqliteStoreOptions.WalLimitBytes"/>, this copies the bulk at once and then asks the writer to finish
/// between two batches (<see cref="SqliteWriter.RequestWalRestart"/>), which then copies only the last few
/// milliseconds of writes, instead of the whole WAL on the writer's own time.
/// </remarks>
internal sealed partial class WalCheckpointService(
    SqliteDatabase database,
    SqliteWriter? writer,
    TimeProvider time,
    IOptions<SqliteStoreOptions> options,
    ILogger<WalCheckpointService> logger) : BackgroundService
{
    private static readonly TimeSpan SizeCheck = TimeSpan.FromMilliseconds(100);

    /// <summary>Runs one passive checkpoint; returns the WAL frames now in the database file (for tests).</summary>
    internal int CheckpointOnce()
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";
        using var reader = command.ExecuteReader();
        return reader.Read() ? reader.GetInt32(2) : 0;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.CheckpointInterval;
        var walPath = database.FilePath + "-wal";
        var half = options.Value.WalLimitBytes / 2;
        var last = time.GetTimestamp();
        using var timer = new PeriodicTimer(interval < SizeCheck ? interval : SizeCheck, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var wal = new FileInfo(walPath);
                    var large = wal.Exists && wal.Length >= half;
                    if (large || time.GetElapsedTime(last) >= interval)
                    {
                        CheckpointOnce();
                        last = time.GetTimestamp();
                        if (large)
                        {
                            writer?.RequestWalRestart();
                        }
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A missed checkpoint only lets the WAL grow until the next one (the writer bounds it at the limit).
                    LogCheckpointFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the writer checkpoints once more as it closes.
        }
    }

    [LoggerMessage(EventId = 1140, Level = LogLevel.Warning, Message = "WAL checkpoint failed; the next interval tries again")]
    private partial void LogCheckpointFailed(Exception exception);
}
