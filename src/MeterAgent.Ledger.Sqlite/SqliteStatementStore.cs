using MeterAgent.Ledger.Statements;
using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Statements are written by the shared writer (one transaction a closing pass) and read on reader connections.</summary>
public sealed class SqliteStatementStore(SqliteDatabase database, SqliteWriter writer) : IStatementStore
{
    public Task AppendAsync(IReadOnlyList<(StatementHeader Header, byte[] Envelope)> statements, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statements);
        return statements.Count == 0 ? Task.CompletedTask : writer.SubmitAsync(new AppendStatementsWrite(statements), cancellationToken);
    }

    public Task<StatementHeader?> LatestAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(ReadHeaders(StatementSql.Latest, [], cancellationToken).SingleOrDefault());

    public Task<IReadOnlyList<StatementHeader>> ListAsync(long since, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return Task.FromResult<IReadOnlyList<StatementHeader>>(ReadHeaders(StatementSql.List, [("@since", since), ("@limit", limit)], cancellationToken));
    }

    public Task<byte[]?> GetEnvelopeAsync(long sequence, CancellationToken cancellationToken = default) =>
        Task.FromResult(Scalar(StatementSql.Envelope, [("@seq", sequence)], cancellationToken) as byte[]);

    public Task<IReadOnlyList<StatementHeader>> ForIntervalAsync(string contractId, DateTimeOffset intervalStart, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<StatementHeader>>(ReadHeaders(StatementSql.ForInterval,
            [("@contract_id", contractId), ("@interval_start", SqliteTime.ToUnixMicroseconds(intervalStart))], cancellationToken));

    public Task<DateTimeOffset?> StatedUntilAsync(string contractId, CancellationToken cancellationToken = default) =>
        Task.FromResult(Time(Scalar(StatementSql.StatedUntil, [("@contract_id", contractId)], cancellationToken)));

    public Task<DateTimeOffset?> FirstStartAsync(string contractId, CancellationToken cancellationToken = default) =>
        Task.FromResult(Time(Scalar(StatementSql.FirstStart, [("@contract_id", contractId)], cancellationToken)));

    public Task<IReadOnlyList<string>> LoggedContractsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, StatementSql.LoggedContracts);
        using var reader = command.ExecuteReader();
        var contracts = new List<string>();
        while (reader.Read())
        {
            contracts.Add(reader.GetString(0));
        }

        return Task.FromResult<IReadOnlyList<string>>(contracts);
    }

    public Task<IReadOnlyList<LoggedLeaf>> LeavesAsync(
        string contractId, DateTimeOffset from, DateTimeOffset to, long belowIndex, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenConnection();
        using var command = Bound(connection, StatementSql.Leaves,
            [("@contract_id", contractId), ("@from", SqliteTime.ToUnixMicroseconds(from)), ("@to", SqliteTime.ToUnixMicroseconds(to)), ("@below", belowIndex)]);
        using var reader = command.ExecuteReader();
        var leaves = new List<LoggedLeaf>();
        while (reader.Read())
        {
            leaves.Add(new LoggedLeaf(reader.GetInt64(0), (byte[])reader.GetValue(1)));
        }

        return Task.FromResult<IReadOnlyList<LoggedLeaf>>(leaves);
    }

    private List<StatementHeader> ReadHeaders(string sql, ReadOnlySpan<(string Name, object Value)> parameters, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenConnection();
        using var command = Bound(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        var headers = new List<StatementHeader>();
        while (reader.Read())
        {
            headers.Add(new StatementHeader
            {
                Sequence = reader.GetInt64(0),
                ContractId = reader.GetString(1),
                IntervalStart = SqliteTime.FromUnixMicroseconds(reader.GetInt64(2)),
                IntervalEnd = SqliteTime.FromUnixMicroseconds(reader.GetInt64(3)),
                Amends = reader.IsDBNull(4) ? null : reader.GetInt64(4),
                TreeSize = reader.GetInt64(5),
                Digest = (byte[])reader.GetValue(6),
                CreatedAt = SqliteTime.FromUnixMicroseconds(reader.GetInt64(7)),
            });
        }

        return headers;
    }

    private object? Scalar(string sql, ReadOnlySpan<(string Name, object Value)> parameters, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenConnection();
        using var command = Bound(connection, sql, parameters);
        var value = command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    private static DateTimeOffset? Time(object? unixMicros) => unixMicros is long micros ? SqliteTime.FromUnixMicroseconds(micros) : null;

    private static SqliteCommand Bound(SqliteConnection connection, string sql, ReadOnlySpan<(string Name, object Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }
}
