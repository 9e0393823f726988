using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// What an operation sees on the writer thread: the write connection and its prepared commands, each created once
/// per distinct SQL text and reused by every later batch. Only the writer thread touches it.
/// </summary>
internal sealed class SqliteWriteContext : IDisposable
{
    private readonly SqliteConnection _connection;

    // Keyed by the SQL text. Operations pass static strings, so the first lookup is by reference (the string's
    // identity, not a hash of its text, which for a 34-column insert cost more than a bind); a text built per call
    // misses it once and is found by value, then by reference too.
    private readonly Dictionary<string, SqliteCommand> _commandsByRef = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, RawStatement> _rawByRef = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RawStatement> _raw = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    public SqliteWriteContext(SqliteConnection connection, UsageOpenJournal journal, ReservationBook book)
    {
        _connection = connection;
        Journal = journal;
        Book = book;
    }

    /// <summary>The reservations held in memory (writes that change lots keep it current).</summary>
    public ReservationBook Book { get; }

    /// <summary>
    /// The book's reservations the current transaction resolved: once it commits the book forgets them (the database
    /// has them); if it fails, they are resolving again until their writes are retried.
    /// </summary>
    public List<ReservationBook.Entry> ResolvedEntries { get; } = [];

    /// <summary>The opens' write-ahead journal (recovery reads what is open in it).</summary>
    public UsageOpenJournal Journal { get; }

    /// <summary>
    /// The ids of the usage records the current transaction closed (wrote their <c>usage_records</c> row): once it
    /// commits, the writer acknowledges them in <see cref="Journal"/>. An operation that fails has its ids taken back.
    /// </summary>
    public List<string> ClosedUsageIds { get; } = [];

    /// <summary>A buffer for packing a record (the settle outbox's intents), reused by the writer's one thread.</summary>
    public System.Buffers.ArrayBufferWriter<byte> RecordBuffer { get; } = new(512);

    /// <summary>
    /// The prepared command for <paramref name="sql"/>, enlisted in the current transaction. Parameters are created
    /// once, in the order given; callers set values by position.
    /// </summary>
    public SqliteCommand Command(string sql, params ReadOnlySpan<string> parameterNames)
    {
        if (_commandsByRef.TryGetValue(sql, out var command))
        {
            return command;
        }

        if (_commands.TryGetValue(sql, out command))
        {
            RememberByRef(_commandsByRef, sql, command);
            return command;
        }

        command = _connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = _transaction;
        foreach (var name in parameterNames)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        _commands.Add(sql, command);
        RememberByRef(_commandsByRef, sql, command);
        return command;
    }

    /// <summary>The statement for <paramref name="sql"/>, prepared on first use and bound by position (see <see cref="RawStatement"/>).</summary>
    public RawStatement Raw(string sql)
    {
        if (_rawByRef.TryGetValue(sql, out var statement))
        {
            return statement;
        }

        if (!_raw.TryGetValue(sql, out statement))
        {
            statement = new RawStatement(_connection, sql);
            _raw.Add(sql, statement);
        }

        RememberByRef(_rawByRef, sql, statement);
        return statement;
    }

    // A text built per call would add a reference each time: past a bound, such texts are only found by value.
    private static void RememberByRef<T>(Dictionary<string, T> byRef, string sql, T value)
    {
        if (byRef.Count < 256)
        {
            byRef.TryAdd(sql, value);
        }
    }

    /// <summary>Enlists every cached command in the batch's transaction (Microsoft.Data.Sqlite requires it).</summary>
    public void Begin(SqliteTransaction transaction) => Enlist(transaction);

    public void End() => Enlist(null);

    private void Enlist(SqliteTransaction? transaction)
    {
        _transaction = transaction;
        foreach (var command in _commands.Values)
        {
            command.Transaction = transaction;
        }
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        _commandsByRef.Clear();
        foreach (var statement in _raw.Values)
        {
            statement.Dispose();
        }

        _raw.Clear();
        _rawByRef.Clear();
    }
}
