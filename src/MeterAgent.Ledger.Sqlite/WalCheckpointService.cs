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
internal sealed partial class WalCheckpointService(
    SqliteDatabase database,
    TimeProvider time,
    IOptions<SqliteStoreOptions> options,
    ILogger<WalCheckpointService> logger) : BackgroundService
{
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
        using var timer = new PeriodicTimer(options.Value.CheckpointInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    CheckpointOnce();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A missed checkpoint only lets the WAL grow until the next one.
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
