using System.Diagnostics.Metrics;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The embedded store's instruments, on the host's <c>MeterAgent</c> meter (from its <see cref="IMeterFactory"/>, so
/// the host exports them with its own): the writer's queue, each group commit's size and duration, the WAL's size,
/// the records open now and the log's entries. Commits are recorded as they happen; the rest is read when metrics are
/// collected, from the writer's queue, the WAL file's length (bounded by
/// <c>Store:WalLimitBytes</c>), the open journal's in-memory count of open records, and one single-row query: the log's
/// highest index.
/// </summary>
internal sealed partial class SqliteStoreMetrics
{
    /// <summary>The meter every MeterAgent instrument is on, whichever assembly creates it.</summary>
    public const string MeterName = "MeterAgent";

    private static readonly IReadOnlyList<int> BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private static readonly IReadOnlyList<double> CommitBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private readonly SqliteDatabase _database;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _commitDuration;

    public SqliteStoreMetrics(IMeterFactory meterFactory, SqliteDatabase database, Func<int> queueDepth, Func<int> openRecords)
    {
        _database = database;
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("meteragent.store.write_queue.depth", queueDepth, "{write}", "Writes waiting for the store's writer.");
        _batchSize = meter.CreateHistogram("meteragent.store.commit.batch_size", "{write}", "Writes per committed transaction.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = BatchBuckets });
        _commitDuration = meter.CreateHistogram("meteragent.store.commit.duration", "s", "One group commit's transaction, begin to commit.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CommitBuckets });
        meter.CreateObservableGauge("meteragent.store.wal", WalBytes, "By", "Size of the SQLite WAL file (how far checkpoints lag).");
        meter.CreateObservableGauge("meteragent.store.open_records", openRecords, "{record}",
            "Usage records open now (requests in flight).");
        meter.CreateObservableGauge("meteragent.log.entries", () => Count(LogEntries), "{entry}", "Entries in the usage log.");
    }

    private const string LogEntries = "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries;";

    public void RecordCommit(int writes, TimeSpan elapsed)
    {
        _batchSize.Record(writes);
        _commitDuration.Record(elapsed.TotalSeconds);
    }

    private IEnumerable<Measurement<long>> WalBytes()
    {
        var wal = new FileInfo(_database.FilePath + "-wal");
        return wal.Exists ? [new Measurement<long>(wal.Length)] : [new Measurement<long>(0)];
    }

    // Read when metrics are collected; a store that is stopping or failing reports nothing rather than failing the scrape.
    private IEnumerable<Measurement<long>> Count(string sql)
    {
        try
        {
            using var connection = _database.OpenConnection();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return [new Measurement<long>(Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture))];
        }
        catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or ObjectDisposedException or InvalidOperationException)
        {
            return [];
        }
    }
}
