using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// A statement prepared once on the write connection, bound by position (or by a name resolved once). The hot writes (a usage record's open and
/// close, every request) bind 32 values each: Microsoft.Data.Sqlite resolves every parameter by name and boxes every
/// value on each execution, which here cost more than the insert itself. It runs in whatever transaction the
/// connection has open, like any statement on it.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    // Resolved once here, so binding by name costs a dictionary lookup rather than a native search each time.
    private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);

    public RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The write connection is not open.");
        var rc = raw.sqlite3_prepare_v2(_db, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, _db);
        var count = raw.sqlite3_bind_parameter_count(_statement);
        for (var position = 1; position <= count; position++)
        {
            var name = raw.sqlite3_bind_parameter_name(_statement, position).utf8_to_string();
            if (name is not null)
            {
                _positions.TryAdd(name, position);
            }
        }
    }

    public void Bind(string name, string? value) => Bind(Position(name), value);

    public void Bind(string name, long? value) => Bind(Position(name), value);

    public void Bind(string name, ReadOnlySpan<byte> value)
    {
        var rc = raw.sqlite3_bind_blob(_statement, Position(name), value);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    /// <summary>Steps to the next row of a query; false when there is none. Call <see cref="Reset"/> when done reading.</summary>
    public bool Step()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc == raw.SQLITE_ROW)
        {
            return true;
        }

        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        return false;
    }

    public long GetInt64(int column) => raw.sqlite3_column_int64(_statement, column);

    public string GetString(int column) => raw.sqlite3_column_text(_statement, column).utf8_to_string();

    public bool IsNull(int column) => raw.sqlite3_column_type(_statement, column) == raw.SQLITE_NULL;

    public void Reset()
    {
        raw.sqlite3_reset(_statement);
        raw.sqlite3_clear_bindings(_statement);
    }

    private int Position(string name) =>
        _positions.TryGetValue(name, out var position)
            ? position
            : throw new ArgumentException($"The statement has no parameter {name}.", nameof(name));

    /// <summary>Positions are 1-based, as SQLite counts them.</summary>
    public void Bind(int position, string? value)
    {
        var rc = value is null ? raw.sqlite3_bind_null(_statement, position) : raw.sqlite3_bind_text(_statement, position, value);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    public void Bind(int position, ReadOnlySpan<byte> value)
    {
        var rc = raw.sqlite3_bind_blob(_statement, position, value);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    public void Bind(int position, long? value)
    {
        var rc = value is { } v ? raw.sqlite3_bind_int64(_statement, position, v) : raw.sqlite3_bind_null(_statement, position);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    /// <summary>Runs the statement to completion; returns the rows it changed. The statement is reset for the next use.</summary>
    public int Execute()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, _db);
            }

            return raw.sqlite3_changes(_db);
        }
        finally
        {
            Reset();
        }
    }

    public void Dispose() => _statement.Dispose();
}
