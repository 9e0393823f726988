using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The database file: creates it and its folder, switches it to WAL, migrates the schema, and hands out
/// connections configured alike. Readers open a connection per call (Microsoft.Data.Sqlite pools them), which WAL
/// lets run alongside the one writer.
/// </summary>
public sealed partial class SqliteDatabase : IDisposable
{
    private readonly string _connectionString;
    private readonly string _pragmas;
    private readonly ILogger<SqliteDatabase> _logger;
    private int _disposed;

    /// <summary>
    /// SQLite's process-wide settings, made before it initialises (at the first open in the process):
    /// <list type="bullet">
    /// <item>multi-thread mode rather than serialised: a connection takes no mutex on each call (a bind, a step, a
    /// reset: ~30 lock/unlock pairs per write). Safe here because no connection is ever used by two threads at once:
    /// the writer's is used by its loop or, while it gathers, under its gate; every other connection is opened per
    /// call, as <see cref="SqliteConnection"/> is not thread-safe anyway.</item>
    /// <item>no memory statistics: each of SQLite's allocations took a global mutex to count itself.</item>
    /// </list>
    /// When SQLite was initialised already (something else in the process opened a database first) both calls are
    /// refused (<c>SQLITE_MISUSE</c>) and SQLite stays serialised: slower, and as correct.
    /// </summary>
    static SqliteDatabase()
    {
        SQLitePCL.Batteries_V2.Init();
        _ = SQLitePCL.raw.sqlite3_config(SQLitePCL.raw.SQLITE_CONFIG_MULTITHREAD);
        _ = SQLitePCL.raw.sqlite3_config(SQLitePCL.raw.SQLITE_CONFIG_MEMSTATUS, 0);
    }

    public SqliteDatabase(IOptions<SqliteStoreOptions> options, ILogger<SqliteDatabase> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        Options = options.Value;
        _logger = logger;

        FilePath = System.IO.Path.GetFullPath(Options.Path);
        PrivateFiles.Prepare(FilePath);

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = (int)Math.Ceiling(Options.BusyTimeout.TotalSeconds),
        }.ToString();

        var synchronous = Options.Synchronous == SqliteSynchronousMode.Full ? "FULL" : "NORMAL";
        var busyMs = (long)Options.BusyTimeout.TotalMilliseconds;
        _pragmas = string.Create(
            CultureInfo.InvariantCulture,
            $"PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = {busyMs}; PRAGMA journal_size_limit = {Options.WalLimitBytes / 8};");

        using var connection = OpenConnection();
        EnableWal(connection);
        var from = SqliteSchema.Migrate(connection);
        LogOpened(FilePath, from, SqliteSchema.CurrentVersion, synchronous);
    }

    public SqliteStoreOptions Options { get; }

    /// <summary>The database file's full path.</summary>
    public string FilePath { get; }

    /// <summary>An open connection with this store's pragmas; the caller disposes it (back to the pool).</summary>
    public SqliteConnection OpenConnection()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();

            // A pooled connection may be fresh or reused; these pragmas are per connection, so set them every time.
            using var command = connection.CreateCommand();
            command.CommandText = _pragmas;
            command.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Releases the pooled connections, so the file is closed once the last user returns its own.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    private static void EnableWal(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;";
        var mode = command.ExecuteScalar() as string;

        // WAL is persistent in the file but can be refused (e.g. some network file systems); without it readers
        // block the writer and the durability argument for synchronous=NORMAL does not hold.
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"SQLite refused WAL mode for '{connection.DataSource}' (journal_mode is '{mode}').");
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information,
        Message = "Opened SQLite store {Path}: schema version {FromVersion} -> {ToVersion}, synchronous={Synchronous}, WAL")]
    private partial void LogOpened(string path, int fromVersion, int toVersion, string synchronous);
}
