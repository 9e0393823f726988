using System.Text;
using System.Threading.Channels;
using MeterAgent.Ledger.Usage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Usage records in SQLite with group commit: one background writer owns the only write connection and commits up to
/// <see cref="SqliteStoreOptions.MaxBatchSize"/> queued writes per transaction, so a thousand concurrent requests
/// cost a handful of commits (and fsyncs under <c>Synchronous=Full</c>) rather than a thousand. Each caller's task
/// completes only after the transaction holding its record has committed. Reads use their own connections.
/// </summary>
public sealed partial class SqliteUsageStore : IUsageStore, IAsyncDisposable, IDisposable
{
    /// <summary>The most records one query returns; callers page on with <see cref="UsageQuery.Before"/>.</summary>
    public const int MaxQueryLimit = 1000;

    internal const string InterruptedError = "agent stopped before the request ended";

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger<SqliteUsageStore> _logger;
    private readonly int _maxBatchSize;
    private readonly Channel<UsageWrite> _queue;
    private readonly SqliteConnection _writeConnection;
    private readonly SqliteCommand _open;
    private readonly SqliteCommand _close;
    private readonly SqliteCommand _recover;
    private readonly Task _writer;
    private long _transactions;
    private long _committedWrites;
    private int _largestBatch;
    private int _disposed;

    public SqliteUsageStore(SqliteDatabase database, TimeProvider time, ILogger<SqliteUsageStore> logger)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _database = database;
        _time = time;
        _logger = logger;
        _maxBatchSize = database.Options.MaxBatchSize;
        _queue = Channel.CreateUnbounded<UsageWrite>(new UnboundedChannelOptions { SingleReader = true });

        _writeConnection = database.OpenConnection();
        _open = UsageRecordSql.CreateWriteCommand(_writeConnection, UsageRecordSql.Open);
        _close = UsageRecordSql.CreateWriteCommand(_writeConnection, UsageRecordSql.Close);
        _recover = _writeConnection.CreateCommand();
        _recover.CommandText = $"""
            UPDATE usage_records SET status = '{UsageStatusNames.Interrupted}', ended_at = @now, error = @error
            WHERE status = '{UsageStatusNames.Open}';
            """;
        _recover.Parameters.Add(new SqliteParameter { ParameterName = "@now" });
        _recover.Parameters.Add(new SqliteParameter { ParameterName = "@error", Value = InterruptedError });
        _recover.Prepare();

        _writer = Task.Run(RunWriterAsync);
    }

    /// <summary>Transactions the writer committed; with concurrent callers, far fewer than the writes.</summary>
    internal long TransactionCount => Interlocked.Read(ref _transactions);

    /// <summary>Writes committed (opens, closes, recoveries).</summary>
    internal long CommittedWriteCount => Interlocked.Read(ref _committedWrites);

    /// <summary>The most writes one transaction has held.</summary>
    internal int LargestBatch => Volatile.Read(ref _largestBatch);

    /// <remarks>
    /// Cancelling stops the wait, not the write: once queued the record may still be committed. A caller that gives
    /// up should not go upstream, and should close the record (e.g. as Rejected) if it can.
    /// </remarks>
    public async ValueTask OpenAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnqueueAsync(new UsageWrite(UsageWriteKind.Open, record), cancellationToken);
    }

    /// <inheritdoc cref="OpenAsync"/>
    public async ValueTask CloseAsync(UsageRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnqueueAsync(new UsageWrite(UsageWriteKind.Close, record), cancellationToken);
    }

    /// <summary>
    /// Goes through the writer queue, so it is ordered with the writes: records opened by calls that returned before
    /// this one are closed too. Meant for start-up, before traffic.
    /// </summary>
    public async Task<int> RecoverOpenAsync(CancellationToken cancellationToken = default)
    {
        var closed = await EnqueueAsync(new UsageWrite(UsageWriteKind.RecoverOpen, record: null), cancellationToken);
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

    /// <summary>Stops taking writes, commits everything queued, checkpoints the WAL into the database file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _writer;

        try
        {
            using var checkpoint = _writeConnection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            checkpoint.ExecuteNonQuery();
        }
        catch (SqliteException ex)
        {
            // Not fatal: every commit is already in the WAL, and the next open replays it.
            LogCheckpointFailed(ex);
        }

        _open.Dispose();
        _close.Dispose();
        _recover.Dispose();
        await _writeConnection.DisposeAsync();
        LogStopped(TransactionCount, CommittedWriteCount);
    }

    /// <summary>For containers disposed synchronously: blocks until the queued writes are committed.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task<int> EnqueueAsync(UsageWrite write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(SqliteUsageStore), "The usage store is stopped; the record was not written.");
        }

        return await write.Completion.Task.WaitAsync(cancellationToken);
    }

    private async Task RunWriterAsync()
    {
        var batch = new List<UsageWrite>(_maxBatchSize);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < _maxBatchSize && _queue.Reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            WriteBatch(batch);
            batch.Clear();
        }
    }

    private void WriteBatch(List<UsageWrite> batch)
    {
        try
        {
            Commit(batch);
            foreach (var write in batch)
            {
                write.Completion.TrySetResult(write.Result);
            }

            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            // One bad record must not fail the others that happened to share its transaction: retry one by one.
            LogBatchFailed(ex, batch.Count);
        }
        catch (Exception ex)
        {
            LogWriteFailed(ex, batch[0].Kind, batch[0].Record?.Id);
            batch[0].Completion.TrySetException(ex);
            return;
        }

        var single = new List<UsageWrite>(1);
        foreach (var write in batch)
        {
            single.Add(write);
            try
            {
                Commit(single);
                write.Completion.TrySetResult(write.Result);
            }
            catch (Exception ex)
            {
                LogWriteFailed(ex, write.Kind, write.Record?.Id);
                write.Completion.TrySetException(ex);
            }

            single.Clear();
        }
    }

    private void Commit(List<UsageWrite> batch)
    {
        using var transaction = _writeConnection.BeginTransaction();
        _open.Transaction = transaction;
        _close.Transaction = transaction;
        _recover.Transaction = transaction;

        foreach (var write in batch)
        {
            switch (write.Kind)
            {
                case UsageWriteKind.Open:
                    UsageRecordSql.Bind(_open, write.Record!, UsageStatus.Open);
                    write.Result = _open.ExecuteNonQuery();
                    break;
                case UsageWriteKind.Close:
                    UsageRecordSql.Bind(_close, write.Record!, write.Record!.Status);
                    write.Result = _close.ExecuteNonQuery();
                    break;
                case UsageWriteKind.RecoverOpen:
                    _recover.Parameters[0].Value = SqliteTime.ToUnixMicroseconds(_time.GetUtcNow());
                    write.Result = _recover.ExecuteNonQuery();
                    break;
                default:
                    throw new InvalidOperationException($"Unknown write kind {write.Kind}.");
            }
        }

        transaction.Commit();
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _committedWrites, batch.Count);
        if (batch.Count > _largestBatch)
        {
            Volatile.Write(ref _largestBatch, batch.Count);
        }
    }

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning,
        Message = "A group commit of {Count} usage writes failed; retrying them one by one")]
    private partial void LogBatchFailed(Exception exception, int count);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Error, Message = "Usage write {Kind} for record {RecordId} failed")]
    private partial void LogWriteFailed(Exception exception, UsageWriteKind kind, string? recordId);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning,
        Message = "Closed {Count} usage records left open by a previous run as interrupted")]
    private partial void LogRecovered(int count);

    [LoggerMessage(EventId = 1113, Level = LogLevel.Warning, Message = "WAL checkpoint at shutdown failed")]
    private partial void LogCheckpointFailed(Exception exception);

    [LoggerMessage(EventId = 1114, Level = LogLevel.Information,
        Message = "Usage store stopped after {Transactions} transactions holding {Writes} writes")]
    private partial void LogStopped(long transactions, long writes);
}
