using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// A statement prepared once on the write connection and bound by position. The hot writes (a usage record's open and
/// close, every request) bind 32 values each: Microsoft.Data.Sqlite resolves every parameter by name and boxes every
/// value on each execution, which here cost more than the insert itself. It runs in whatever transaction the
/// connection has open, like any statement on it.
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;

    public RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The write connection is not open.");
        var rc = raw.sqlite3_prepare_v2(_db, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    /// <summary>Positions are 1-based, as SQLite counts them.</summary>
    public void Bind(int position, string? value)
    {
        var rc = value is null ? raw.sqlite3_bind_null(_statement, position) : raw.sqlite3_bind_text(_statement, position, value);
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
            raw.sqlite3_reset(_statement);
            raw.sqlite3_clear_bindings(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();
}
