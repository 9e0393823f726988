namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The embedded SQLite store, bound from the configuration section <c>Store</c> (what every store shares, such as
/// <c>Store:ReservationSweepInterval</c>, is in <see cref="Hosting.StoreOptions"/>):
/// <list type="bullet">
/// <item><c>Store:Path</c> — the database file (default <c>data/meteragent.db</c>); its folder is created.</item>
/// <item><c>Store:Synchronous</c> — <c>Normal</c> (default) or <c>Full</c>; see <see cref="SqliteSynchronousMode"/>.</item>
/// <item><c>Store:MaxBatchSize</c> — most usage writes group-committed in one transaction (default 256, 1–10000).</item>
/// <item><c>Store:KeyCacheTtl</c> — how long a key lookup (found or not) is cached (default <c>00:00:05</c>, at most 1 hour).
/// Revocation on this node evicts at once; other nodes see it within this time.</item>
/// <item><c>Store:KeyCacheCapacity</c> — most cached key lookups (default 10000).</item>
/// <item><c>Store:BusyTimeout</c> — how long a connection waits for a lock held by another (default <c>00:00:05</c>).</item>
/// <item><c>Store:CheckpointInterval</c> — how often the WAL is checkpointed into the database file, off the writer
/// (default <c>00:00:01</c>, from 00:00:00.050 to 00:01:00).</item>
/// <item><c>Store:WalLimitBytes</c> — the bound on the WAL file under sustained writes (default 64 MiB, from 4 MiB to
/// 16 GiB). Once the WAL holds half of it, the writer finishes a checkpoint between two batches so the next commit
/// restarts the WAL from its beginning; <c>journal_size_limit</c> (an eighth of it) truncates the file back.</item>
/// <item><c>Store:JournalSegmentBytes</c> — the size at which the open journal (<c>&lt;Path&gt;.journal/</c>, outside
/// SQLite) starts a new segment file (default 8 MiB, from 64 KiB to 1 GiB). Segments whose opens are all closed are
/// deleted, so the journal holds about two segments plus the records in flight.</item>
/// <item><c>Store:CloseGatherTime</c> — the longest the writer holds the closes of a steady stream of requests for
/// others to share their commit (default <c>00:00:00.006</c>, from 0, off, to 00:00:00.100). The close comes after the
/// response has ended, so no response waits for it (only a later request that credits or a rate limit would refuse
/// waits, up to a second, for the account's earlier requests to settle before it is asked again); a crash in the window
/// loses the closes gathered so far, and restart closes those records as interrupted from the open journal, as it does
/// for the requests in flight.</item>
/// </list>
/// </summary>
public sealed class SqliteStoreOptions
{
    public const string SectionName = "Store";

    public string Path { get; set; } = "data/meteragent.db";

    public SqliteSynchronousMode Synchronous { get; set; } = SqliteSynchronousMode.Normal;

    public int MaxBatchSize { get; set; } = 256;

    public TimeSpan KeyCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    public int KeyCacheCapacity { get; set; } = 10_000;

    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(1);

    public long WalLimitBytes { get; set; } = DefaultWalLimitBytes;

    /// <summary>64 MiB.</summary>
    public const long DefaultWalLimitBytes = 64L * 1024 * 1024;

    public long JournalSegmentBytes { get; set; } = DefaultJournalSegmentBytes;

    /// <summary>8 MiB.</summary>
    public const long DefaultJournalSegmentBytes = 8L * 1024 * 1024;

    /// <summary>
    /// The longest the writer holds closes for others to share their commit (<see cref="SqliteWriter"/>). 6 ms, measured
    /// against 2 and 12 (docs/benchmarks.md): fewer pages written per request than 2 ms with no worse a p99; 12 ms
    /// writes fewer still but lengthens the c=32 tail. Tests lengthen it (past the validated range) to see what ends
    /// the wait.
    /// </summary>
    public TimeSpan CloseGatherTime { get; set; } = TimeSpan.FromMilliseconds(6);
}
