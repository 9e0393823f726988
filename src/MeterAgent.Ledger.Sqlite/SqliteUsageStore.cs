using System.Text;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Usage records in SQLite, written ahead in a journal file. An open is a frame in the writer's
/// <see cref="UsageOpenJournal"/> (group-committed by its own appender, never behind a SQLite commit or checkpoint); a
/// close is the full <c>usage_records</c> row, group-committed by the shared <see cref="SqliteWriter"/> (with the credit
/// ledger's mutations), which then acknowledges the open. Each caller's task completes only once its write is durable.
/// Reads use their own connections; open records are read from the journal's memory.
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
    public ValueTask OpenAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return _writer.Journal.AppendAsync(record, cancellationToken);
    }

    /// <inheritdoc cref="OpenAsync"/>
    // Not async: the write itself is what the caller awaits, with no state machine or task of its own on every
    // request's close.
    public ValueTask CloseAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        return cancellationToken.CanBeCanceled
            ? new ValueTask(_writer.SubmitAsync(UsageWrite.Close(record), cancellationToken))
            : _writer.SubmitOnceAsync(UsageWrite.Close(record));
    }

    /// <summary>
    /// Goes through the writer queue, so it is ordered with the writes: records opened by calls that returned before
    /// this one are closed too. Meant for start-up, before traffic.
    /// </summary>
    public async Task<int> RecoverOpenAsync(CancellationToken cancellationToken = default)
    {
        var closed = await _writer.SubmitAsync(new UsageRecoveryWrite(_time.GetUtcNow()), cancellationToken);
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

        // The journal first: a close acknowledges the open only after its row has committed, so a record missing from
        // the journal now is either never opened or already has its row, and a closed record never reads as open.
        var open = _writer.Journal.TryGetOpen(id);
        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {UsageRecordSql.SelectColumns} FROM usage_records WHERE id = @id;";
        command.Parameters.AddWithValue("@id", id);
        using var reader = command.ExecuteReader();
        if (reader.Read())
        {
            return Task.FromResult<UsageRecord?>(UsageRecordSql.Read(reader));
        }

        return Task.FromResult(open is null ? null : UsageJournalCodec.Decode(open));
    }

    /// <summary>The records open now (written to the journal, not yet closed), once each.</summary>
    private List<UsageRecord> ReadOpen()
    {
        var snapshot = _writer.Journal.SnapshotOpen();
        var open = new List<UsageRecord>(snapshot.Count);
        foreach (var (_, payload) in snapshot)
        {
            open.Add(UsageJournalCodec.Decode(payload));
        }

        return open;
    }

    private static bool HasRow(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction transaction, string id)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT 1 FROM usage_records WHERE id = @id;";
        command.Parameters.AddWithValue("@id", id);
        return command.ExecuteScalar() is not null;
    }

    // The query's filters, as the SQL applies them to usage_records: times compared in whole microseconds, ids by their bytes.
    private static bool Matches(UsageRecord record, UsageQuery query) =>
        (query.AccountId is null || string.Equals(record.AccountId, query.AccountId, StringComparison.Ordinal))
        && (query.Model is null
            || string.Equals(record.RequestedModel, query.Model, StringComparison.Ordinal)
            || string.Equals(record.ServedModel, query.Model, StringComparison.Ordinal))
        && (query.From is not { } from || SqliteTime.ToUnixMicroseconds(record.StartedAt) >= SqliteTime.ToUnixMicroseconds(from))
        && (query.To is not { } to || SqliteTime.ToUnixMicroseconds(record.StartedAt) < SqliteTime.ToUnixMicroseconds(to))
        && (query.Before is null || string.CompareOrdinal(record.Id, query.Before) < 0)
        && (query.Status is not { } status || record.Status == status);

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

        // Open records are in the journal (the records in flight, a short list), read before the table for the reason
        // GetAsync gives; one closed since appears from usage_records and is dropped from these.
        var open = ReadOpen();
        open.RemoveAll(r => !Matches(r, query));

        using var connection = _database.OpenConnection();
        using var transaction = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var limit = Math.Min(query.Limit, MaxQueryLimit);
        BindQuery(command, query, limit);
        command.CommandText = PlanQuery(command, query);

        var records = new List<UsageRecord>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                records.Add(UsageRecordSql.Read(reader));
            }
        }

        // Merged in, newest first by id as the SQL orders, and the limit applied to the whole.
        if (open.Count > 0)
        {
            var closed = new HashSet<string>(records.Count, StringComparer.Ordinal);
            foreach (var record in records)
            {
                closed.Add(record.Id);
            }

            open.RemoveAll(r => closed.Contains(r.Id) || HasRow(connection, transaction, r.Id));
        }

        if (open.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<UsageRecord>>(records);
        }

        records.AddRange(open);
        records.Sort((a, b) => string.CompareOrdinal(b.Id, a.Id));
        if (records.Count > limit)
        {
            records.RemoveRange(limit, records.Count - limit);
        }

        return Task.FromResult<IReadOnlyList<UsageRecord>>(records);
    }

    /// <summary>A filter that matches at most this many rows drives the query: its rows are read and sorted.</summary>
    internal const int SelectiveRows = 2_000;

    private static void BindQuery(Microsoft.Data.Sqlite.SqliteCommand command, UsageQuery query, int limit)
    {
        command.Parameters.AddWithValue("@account_id", (object?)query.AccountId ?? DBNull.Value);
        command.Parameters.AddWithValue("@model", (object?)query.Model ?? DBNull.Value);
        command.Parameters.AddWithValue("@from", query.From is { } from ? SqliteTime.ToUnixMicroseconds(from) : DBNull.Value);
        command.Parameters.AddWithValue("@to", query.To is { } to ? SqliteTime.ToUnixMicroseconds(to) : DBNull.Value);
        command.Parameters.AddWithValue("@status", query.Status is { } status ? UsageStatusNames.ToName(status) : DBNull.Value);
        command.Parameters.AddWithValue("@before", (object?)query.Before ?? DBNull.Value);
        command.Parameters.AddWithValue("@limit", limit);
        command.Parameters.AddWithValue("@probe", SelectiveRows + 1);
    }

    /// <summary>
    /// Chooses how to find the page. SQLite's planner cannot tell a model or status that matches almost nothing from one
    /// that matches most records, and either wrong choice reads the whole table. So each indexed filter is first counted
    /// by its own index, up to <see cref="SelectiveRows"/> + 1 entries (cheap: the index alone): the filter with fewest
    /// matches, if at most that many, drives the query (its ids are read, the other filters checked, the few rows sorted);
    /// when every filter matches many records, the rows are walked newest first by id (within the account, when there is
    /// one) and the first <see cref="UsageQuery.Limit"/> that pass every filter are the page. Only fixed fragments are joined;
    /// every value is a parameter. A status other than completed is read through the partial index of those few rows.
    /// The model has no index: two indexes on the hot table cost about 70% more per close (LedgerBenchmarks, schema
    /// step 10 in docs/benchmarks.md), so a model matched by few records, with no account or time to narrow it, walks the
    /// table; the consoles' charts and counters read the model from the rollups instead.
    /// </summary>
    private static string PlanQuery(Microsoft.Data.Sqlite.SqliteCommand command, UsageQuery query)
    {
        var before = query.Before is null ? string.Empty : " AND id < @before";
        var time = (query.From is null ? string.Empty : " AND started_at >= @from") + (query.To is null ? string.Empty : " AND started_at < @to");

        // Each candidate driver: the ids it matches (an indexed condition), newest first.
        var drivers = new List<string>(3);
        if (query.AccountId is not null)
        {
            drivers.Add(time.Length > 0
                ? $"SELECT id FROM usage_records INDEXED BY ix_usage_records_account_started WHERE account_id = @account_id{time}{before}"
                : $"SELECT id FROM usage_records INDEXED BY ix_usage_records_account_id WHERE account_id = @account_id{before}");
        }

        if (query.Status is { } status && status != UsageStatus.Completed)
        {
            // The partial index's own condition is repeated, so SQLite sees that the query implies it.
            drivers.Add(
                $"SELECT id FROM usage_records INDEXED BY ix_usage_records_status_id WHERE status = @status AND status <> '{UsageRollupSql.Completed}'{before}");
        }

        string? driver = null;
        var fewest = long.MaxValue;
        foreach (var candidate in drivers)
        {
            using var probe = command.Connection!.CreateCommand();
            probe.Transaction = command.Transaction;
            probe.CommandText = $"SELECT COUNT(*) FROM ({candidate} LIMIT @probe);";
            foreach (Microsoft.Data.Sqlite.SqliteParameter parameter in command.Parameters)
            {
                probe.Parameters.AddWithValue(parameter.ParameterName, parameter.Value);
            }

            var count = (long)probe.ExecuteScalar()!;
            if (count <= SelectiveRows && count < fewest)
            {
                (driver, fewest) = (candidate, count);
            }
        }

        // Every filter, with unary + so that no index but the driver's (or the id order's) is used for it.
        var filters = new StringBuilder();
        if (query.AccountId is not null)
        {
            filters.Append(driver is null ? " AND account_id = @account_id" : " AND +account_id = @account_id");
        }

        if (query.Model is not null)
        {
            filters.Append(" AND (+requested_model = @model OR +served_model = @model)");
        }

        if (query.From is not null)
        {
            filters.Append(" AND +started_at >= @from");
        }

        if (query.To is not null)
        {
            filters.Append(" AND +started_at < @to");
        }

        if (query.Status is not null)
        {
            filters.Append(" AND +status = @status");
        }

        // A time bound is also an id bound, from the id ranges per day (schema step 11) and the rows not yet folded into
        // them: the walk newest first starts at the last id a record before 'to' can have, and stops at the first one a
        // record from 'from' on can have. No such record: the bound is NULL and the page empty, as it should be. The rows
        // past the watermark are read by rowid (NOT INDEXED): SQLite would otherwise answer MAX(id) by walking the id
        // index from the top until a row passes, the whole table when none does.
        var forAccount = query.AccountId is not null;
        if (query.To is not null)
        {
            command.Parameters.AddWithValue("@id_max", IdBound(command, IdBoundSql("MAX", "max_id", "day <= @to", "+started_at < @to", forAccount)));
            filters.Append(" AND id <= @id_max");
        }

        if (query.From is not null)
        {
            command.Parameters.AddWithValue("@id_min", IdBound(command, IdBoundSql("MIN", "min_id", "day >= @from", "+started_at >= @from", forAccount)));
            filters.Append(" AND id >= @id_min");
        }

        var source = driver is not null
            ? $"usage_records WHERE id IN ({driver})"
            : query.AccountId is not null
                ? "usage_records INDEXED BY ix_usage_records_account_id WHERE 1 = 1"
                : "usage_records WHERE 1 = 1";
        return $"SELECT {UsageRecordSql.SelectColumns} FROM {source}{filters}{before} ORDER BY id DESC LIMIT @limit;";
    }

    /// <summary>
    /// The extreme id (<paramref name="aggregate"/> MAX or MIN) a record on the near side of a time bound can have: from
    /// the folded id ranges per day (<paramref name="dayCondition"/> ends with the bound, in microseconds: it is divided
    /// into days), and from the rows past the watermark by rowid.
    /// </summary>
    private static string IdBoundSql(string aggregate, string rangeColumn, string dayCondition, string startedCondition, bool forAccount) =>
        $"SELECT {aggregate}(x) FROM (SELECT {aggregate}({rangeColumn}) AS x FROM "
        + (forAccount ? "usage_id_range WHERE account_id = @account_id AND " : "usage_id_range_day WHERE ")
        + $"{dayCondition} / {UsageRollupSql.MicrosecondsPerDay} "
        + $"UNION ALL SELECT {aggregate}(id) FROM usage_records NOT INDEXED WHERE rowid > (SELECT folded FROM usage_rollup_state) AND {startedCondition}"
        + (forAccount ? " AND +account_id = @account_id)" : ")");

    /// <summary>One id bound, read in the query's own transaction (one snapshot with the page); DBNull when there is none.</summary>
    private static object IdBound(Microsoft.Data.Sqlite.SqliteCommand command, string sql)
    {
        using var bound = command.Connection!.CreateCommand();
        bound.Transaction = command.Transaction;
        bound.CommandText = sql;
        foreach (Microsoft.Data.Sqlite.SqliteParameter parameter in command.Parameters)
        {
            if (sql.Contains(parameter.ParameterName, StringComparison.Ordinal))
            {
                bound.Parameters.AddWithValue(parameter.ParameterName, parameter.Value);
            }
        }

        return bound.ExecuteScalar() ?? DBNull.Value;
    }

    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning,
        Message = "Closed {Count} usage records left open by a previous run as interrupted")]
    private partial void LogRecovered(int count);
}
