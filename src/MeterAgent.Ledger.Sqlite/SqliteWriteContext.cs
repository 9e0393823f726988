using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// What an operation sees on the writer thread: the write connection and its prepared commands, each created once
/// per distinct SQL text and reused by every later batch. Only the writer thread touches it.
/// </summary>
internal sealed class SqliteWriteContext : IDisposable
{
    private readonly SqliteConnection _connection;

    // Keyed by the SQL text: operations pass static strings, so lookups are cheap and the set stays small.
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RawStatement> _raw = new(StringComparer.Ordinal);
    private SqliteTransaction? _transaction;

    public SqliteWriteContext(SqliteConnection connection)
    {
        _connection = connection;
    }

    /// <summary>
    /// The prepared command for <paramref name="sql"/>, enlisted in the current transaction. Parameters are created
    /// once, in the order given; callers set values by position.
    /// </summary>
    public SqliteCommand Command(string sql, params ReadOnlySpan<string> parameterNames)
    {
        if (_commands.TryGetValue(sql, out var command))
        {
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
        return command;
    }

    /// <summary>The statement for <paramref name="sql"/>, prepared on first use and bound by position (see <see cref="RawStatement"/>).</summary>
    public RawStatement Raw(string sql)
    {
        if (!_raw.TryGetValue(sql, out var statement))
        {
            statement = new RawStatement(_connection, sql);
            _raw.Add(sql, statement);
        }

        return statement;
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
        foreach (var statement in _raw.Values)
        {
            statement.Dispose();
        }

        _raw.Clear();
    }
}
