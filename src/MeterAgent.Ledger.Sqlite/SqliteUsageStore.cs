using System.Text;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Usage records in SQLite. Writes go through the shared <see cref="SqliteWriter"/>, which group-commits them (with
/// the credit ledger's mutations); each caller's task completes only after the transaction holding its record has
/// committed. Reads use their own connections.
/// </summary>
public sealed partial class SqliteUsageStore : IUsageStore
{
    /// <summary>The most records one query returns; callers page on with <see cref="UsageQuery.Before"/>.</summary>
    public const int MaxQueryLimit = 1000;

    internal const string InterruptedError = "agent stopped before the request ended";

    private readonly SqliteWriter _writer;
    private readonly SqliteDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger<SqliteUsageStore> _logger;

    public SqliteUsageStore(SqliteWriter writer, SqliteDatabase database, TimeProvider time, ILogger<SqliteUsageStore> logger)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _writer = writer;
        _database = database;
        _time = time;
        _logger = logger;
    }

    /// <summary>Transactions the shared writer committed; with concurrent callers, far fewer than the writes.</summary>
    internal long TransactionCount => _writer.TransactionCount;

    /// <summary>Writes the shared writer committed (usage writes and ledger operations alike).</summary>
    internal long CommittedWriteCount => _writer.CommittedWriteCount;

    /// <summary>The most writes one transaction has held.</summary>
    internal int LargestBatch => _writer.LargestBatch;

    /// <remarks>
    /// Cancelling stops the wait, not the write: once queued the record may still be committed. A caller that gives
    /// up should not go upstream, and should close the record (e.g. as Rejected) if it can.
    /// </remarks>
    public async ValueTask OpenAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _writer.SubmitAsync(UsageWrite.Open(record), cancellationToken);
    }

    /// <inheritdoc cref="OpenAsync"/>
    public async ValueTask CloseAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await _writer.SubmitAsync(UsageWrite.Close(record), cancellationToken);
    }

    /// <summary>
    /// Goes through the writer queue, so it is ordered with the writes: records opened by calls that returned before
    /// this one are closed too. Meant for start-up, before traffic.
    /// </summary>
    public async Task<int> RecoverOpenAsync(CancellationToken cancellationToken = default)
    {
        var closed = await _writer.SubmitAsync(UsageWrite.RecoverOpen(_time.GetUtcNow()), cancellationToken);
        if (closed > 0)
        {
            LogRecovered(closed);
        }

        return closed;
    }

    public Task<UsageRecord?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {UsageRecordSql.SelectColumns} FROM usage_records WHERE id = @id;";
        command.Parameters.AddWithValue("@id", id);
        using var reader = command.ExecuteReader();
        return Task.FromResult(reader.Read() ? UsageRecordSql.Read(reader) : null);
    }

    /// <summary>
    /// Newest first by id (ids are UUIDv7, so time-ordered). <see cref="UsageQuery.Model"/> matches the requested or
    /// the served model; <see cref="UsageQuery.From"/> is inclusive and <see cref="UsageQuery.To"/> exclusive, on
    /// StartedAt. <see cref="UsageQuery.Limit"/> above <see cref="MaxQueryLimit"/> is capped.
    /// </summary>
    public Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.Limit, 1, nameof(query));
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();

        // Only fixed fragments are joined; every value is a parameter.
        var sql = new StringBuilder($"SELECT {UsageRecordSql.SelectColumns} FROM usage_records WHERE 1 = 1");
        if (query.AccountId is not null)
        {
            sql.Append(" AND account_id = @account_id");
            command.Parameters.AddWithValue("@account_id", query.AccountId);
        }

        if (query.Model is not null)
        {
            sql.Append(" AND (requested_model = @model OR served_model = @model)");
            command.Parameters.AddWithValue("@model", query.Model);
        }

        if (query.From is { } from)
        {
            sql.Append(" AND started_at >= @from");
            command.Parameters.AddWithValue("@from", SqliteTime.ToUnixMicroseconds(from));
        }

        if (query.To is { } to)
        {
            sql.Append(" AND started_at < @to");
            command.Parameters.AddWithValue("@to", SqliteTime.ToUnixMicroseconds(to));
        }

        if (query.Before is not null)
        {
            sql.Append(" AND id < @before");
            command.Parameters.AddWithValue("@before", query.Before);
        }

        sql.Append(" ORDER BY id DESC LIMIT @limit;");
        command.Parameters.AddWithValue("@limit", Math.Min(query.Limit, MaxQueryLimit));
        command.CommandText = sql.ToString();

        using var reader = command.ExecuteReader();
        var records = new List<UsageRecord>();
        while (reader.Read())
        {
            records.Add(UsageRecordSql.Read(reader));
        }

        return Task.FromResult<IReadOnlyList<UsageRecord>>(records);
    }

    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning,
        Message = "Closed {Count} usage records left open by a previous run as interrupted")]
    private partial void LogRecovered(int count);
}
