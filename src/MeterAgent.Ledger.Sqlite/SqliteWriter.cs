using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The store's single writer: one background loop owns the only write connection and commits up to
/// <see cref="SqliteStoreOptions.MaxBatchSize"/> queued operations per transaction, so a thousand concurrent requests
/// cost a handful of commits (and fsyncs under <c>Synchronous=Full</c>) rather than a thousand. Usage writes and
/// credit-ledger mutations share it: each runs serialised with every other write and rides the same group commit as
/// the usage records. Pending reservations are not written until they end: <see cref="Book"/> holds them. The usage
/// opens are not among them: they go to <see cref="Journal"/>, a file of its own, so the request path never waits for a
/// SQLite commit or checkpoint; each commit that closes records acknowledges them there.
/// </summary>
/// <remarks>
/// Closes are gathered: when a batch holds only operations no request waits for (<see
/// cref="SqliteWriteOperation.CanWait"/>) and the writer committed moments ago (a steady stream, not a lone close), it
/// keeps the transaction open up to <see cref="SqliteStoreOptions.CloseGatherTime"/> (6 ms by default), running what arrives, and
/// commits at once when anything else arrives. At concurrency 1 each close was its own commit, writing the same hot
/// pages (the table's and each index's last page) to the WAL again for every request; gathered, a score of closes
/// share them.
/// Each operation runs under its own savepoint: one that throws is rolled back alone and only its caller sees the
/// error. If the commit itself fails, the batch is retried one operation per transaction, so one bad write cannot
/// fail the others that happened to share its transaction.
/// </remarks>
public sealed partial class SqliteWriter : IAsyncDisposable, IDisposable
{
    // Each multi-statement operation runs in a savepoint of the group's transaction. Raw statements: through
    // SqliteCommand.ExecuteNonQuery each cost a data reader and a statement enumerator, two per credited operation.
    private const string Savepoint = "SAVEPOINT op;";
    private const string ReleaseSavepoint = "RELEASE op;";
    private const string RollbackToSavepoint = "ROLLBACK TO op;";

    private readonly ILogger<SqliteWriter> _logger;
    private readonly int _maxBatchSize;
    private readonly long _gatherTicks;
    private readonly Channel<SqliteWriteOperation> _queue;
    private readonly SqliteConnection _connection;
    private readonly SqliteWriteContext _context;
    private readonly Task _loop;
    private readonly SqliteStoreMetrics? _metrics;
    private readonly SqliteCommand _checkpoint;
    private readonly string _walPath;
    private readonly long _walCheckpointBytes;
    private long _nextWalCheck;
    private int _walRestartRequested;
    private long _walCheckpoints;
    private long _transactions;
    private long _committedWrites;
    private int _largestBatch;
    private int _disposed;

    // The channel of a single reader cannot count its items: the writes waiting are counted here, for the metrics.
    private int _queued;

    // Set while the writer gathers closes: a write that cannot wait (or a full batch) completes it to end the wait.
    private TaskCompletionSource? _hurry;

    // Operations whose callers are resumed together after the batch (ResumesWithBatch). Writer thread only.
    private List<SqliteWriteOperation> _resume = [];

    /// <param name="database">the file</param>
    /// <param name="logger">its log</param>
    /// <param name="meterFactory">the host's meters (the store's metrics); none outside a host</param>
    public SqliteWriter(SqliteDatabase database, ILogger<SqliteWriter> logger, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        _maxBatchSize = database.Options.MaxBatchSize;
        _gatherTicks = (long)(database.Options.CloseGatherTime.TotalSeconds * Stopwatch.Frequency);
        _queue = Channel.CreateUnbounded<SqliteWriteOperation>(new UnboundedChannelOptions { SingleReader = true });

        _connection = database.OpenConnection();

        // Checkpoints copy the WAL into the database and fsync it: milliseconds that would stall every request waiting
        // on this writer. WalCheckpointService does them on its own connection instead (PASSIVE: never blocks writes).
        using (var pragma = _connection.CreateCommand())
        {
            // A multi-statement write (a settlement, a delivery) runs under a savepoint, whose undo is SQLite's statement
            // journal: the image of every page the write changes. SQLite keeps 64 KiB of it in memory and spills the rest
            // to a temporary file (/var/tmp); under credited load that was about one 4 KiB pwrite to such a file per
            // request (docs/benchmarks.md), for an undo that needs no durability (a crash rolls the whole transaction back
            // from the WAL). In memory it stays a page copy. The writer's other temporary structures are small: the
            // rollup folds take 200 rows at a time.
            pragma.CommandText = "PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;";
            pragma.ExecuteNonQuery();
        }

        _walPath = database.FilePath + "-wal";
        _walCheckpointBytes = database.Options.WalLimitBytes / 2;
        _checkpoint = _connection.CreateCommand();
        _checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE);";

        Journal = new UsageOpenJournal(database.FilePath, database.Options, logger);
        Book = new ReservationBook(database);
        _context = new SqliteWriteContext(_connection, Journal, Book);
        if (meterFactory is not null)
        {
            _metrics = new SqliteStoreMetrics(meterFactory, database, () => Volatile.Read(ref _queued), () => Journal.OpenCount);
        }

        _loop = Task.Run(RunAsync);
    }

    /// <summary>The write-ahead journal of usage opens (a file beside the database, not SQLite).</summary>
    internal UsageOpenJournal Journal { get; }

    /// <summary>The credit reservations held in memory until they are resolved (<see cref="ReservationBook"/>).</summary>
    internal ReservationBook Book { get; }

    /// <summary>Transactions committed; with concurrent callers, far fewer than the writes.</summary>
    internal long TransactionCount => Interlocked.Read(ref _transactions);

    /// <summary>Operations committed (failed ones, rolled back to their savepoint, included).</summary>
    internal long CommittedWriteCount => Interlocked.Read(ref _committedWrites);

    /// <summary>
    /// The background checkpoint has just copied the WAL's bulk into the database (and fsynced it): the writer may now
    /// finish the checkpoint between two batches, copying only what was written since, so the WAL restarts.
    /// </summary>
    internal void RequestWalRestart() => Volatile.Write(ref _walRestartRequested, 1);

    /// <summary>Checkpoints the writer ran itself because the WAL had reached half its limit.</summary>
    internal long WalCheckpointCount => Interlocked.Read(ref _walCheckpoints);

    /// <summary>The most operations one transaction has held.</summary>
    internal int LargestBatch => Volatile.Read(ref _largestBatch);

    /// <summary>
    /// Queues the operation and waits for the commit that holds it. Cancelling stops the wait, not the write: once
    /// queued, the operation may still be committed.
    /// </summary>
    internal Task<T> SubmitAsync<T>(SqliteWriteOperation<T> operation, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        return Enqueue(operation) is { } refused ? Task.FromException<T>(refused) : operation.AsTask().WaitAsync(cancellationToken);
    }

    /// <summary>
    /// <see cref="SubmitAsync{T}"/> for a caller on every request's path that awaits the commit once and without a
    /// token (a usage close): the operation itself is what it awaits, with no task allocated.
    /// </summary>
    internal ValueTask SubmitOnceAsync<T>(SqliteWriteOperation<T> operation) =>
        Enqueue(operation) is { } refused ? ValueTask.FromException(refused) : operation.AsValueTaskWithoutResult();

    // Queues the operation; the error its caller gets when the writer is stopped, else null.
    private ObjectDisposedException? Enqueue(SqliteWriteOperation operation)
    {
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(operation))
        {
            Interlocked.Decrement(ref _queued);
            return new ObjectDisposedException(nameof(SqliteWriter), "The store is stopped; nothing was written.");
        }

        if (!operation.CanWait || Volatile.Read(ref _queued) >= _maxBatchSize)
        {
            Volatile.Read(ref _hurry)?.TrySetResult();
        }

        return null;
    }

    /// <summary>Stops taking writes, commits everything queued, checkpoints the WAL into the database file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        Volatile.Read(ref _hurry)?.TrySetResult();
        await _loop;

        // After the last commit, so every close is acknowledged: segments with nothing open left are deleted.
        Journal.Dispose();
        Book.Dispose();

        try
        {
            using var checkpoint = _connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            checkpoint.ExecuteNonQuery();
        }
        catch (SqliteException ex)
        {
            // Not fatal: every commit is already in the WAL, and the next open replays it.
            LogCheckpointFailed(ex);
        }

        _context.Dispose();
        _checkpoint.Dispose();
        await _connection.DisposeAsync();
        LogStopped(TransactionCount, CommittedWriteCount);
    }

    /// <summary>For containers disposed synchronously: blocks until the queued writes are committed.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task RunAsync()
    {
        var batch = new List<SqliteWriteOperation>(_maxBatchSize);
        var lastCommit = long.MinValue / 2;
        while (await _queue.Reader.WaitToReadAsync())
        {
            if (Take(batch) && Stopwatch.GetTimestamp() - lastCommit < _gatherTicks)
            {
                await GatherAsync(batch);
            }
            else
            {
                WriteBatch(batch);
            }

            ResumeTogether();
            batch.Clear();
            lastCommit = Stopwatch.GetTimestamp();
            BoundWal();
        }
    }

    /// <summary>
    /// Moves what is queued into the batch; whether every operation taken can wait for a later commit and the batch has
    /// room.
    /// </summary>
    private bool Take(List<SqliteWriteOperation> batch)
    {
        var canWait = true;
        while (batch.Count < _maxBatchSize && _queue.Reader.TryRead(out var operation))
        {
            Interlocked.Decrement(ref _queued);
            batch.Add(operation);
            canWait &= operation.CanWait;
        }

        return canWait && batch.Count < _maxBatchSize;
    }

    /// <summary>
    /// Opens the batch's transaction, runs what is queued, and goes on taking and running what arrives for up to
    /// <see cref="SqliteStoreOptions.CloseGatherTime"/>; commits then, or at once when a write that cannot wait arrives,
    /// or a batch's worth is queued.
    /// </summary>
    /// <remarks>
    /// The closes that arrive meanwhile only join the queue: waiting on the channel instead would wake this loop for
    /// each one (a thread-pool work item, and a worker woken to spin) just to wait again. Only
    /// <see cref="SubmitAsync{T}"/> of a write that cannot wait completes <see cref="_hurry"/>. It is published (a full
    /// fence) before the queue is looked at again, and a submitter reads it after its write is queued, so a write that
    /// cannot wait is either taken here or sees the signal.
    /// </remarks>
    private async Task GatherAsync(List<SqliteWriteOperation> batch)
    {
        var deadline = Stopwatch.GetTimestamp() + _gatherTicks;

        // For the commit's duration metric: the writer's own time on the batch (running it, committing), not the wait.
        var busy = 0L;
        var ran = 0;
        SqliteTransaction? transaction = null;
        try
        {
            while (true)
            {
                var hurry = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Interlocked.Exchange(ref _hurry, hurry);
                var woke = Stopwatch.GetTimestamp();
                transaction ??= Begin();

                // The stop is read after the signal is published, so a stop either sees the signal or is seen here.
                var more = Take(batch) && Volatile.Read(ref _disposed) == 0;
                ran = Run(batch, ran);
                var now = Stopwatch.GetTimestamp();
                busy += now - woke;
                if (!more || now >= deadline)
                {
                    break;
                }

                using var window = new CancellationTokenSource(Stopwatch.GetElapsedTime(now, deadline));
                using (window.Token.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), hurry))
                {
                    await hurry.Task;
                }
            }

            var committing = Stopwatch.GetTimestamp();
            Interlocked.Exchange(ref _hurry, null);
            transaction.Commit();
            busy += Stopwatch.GetTimestamp() - committing;
        }
        catch (Exception ex)
        {
            Interlocked.Exchange(ref _hurry, null);
            _context.End();
            transaction?.Dispose();
            RolledBack();

            // Whatever was taken but not run yet joins the retry; so does every operation already run.
            LogBatchFailed(ex, batch.Count);
            Retry(batch);
            return;
        }

        _context.End();
        transaction.Dispose();
        Committed(batch, Stopwatch.GetElapsedTime(0, busy));
        Complete(batch);
    }

    // How often, at most, the writer looks at the WAL's length: a stat of one file, every 10 ms of continuous writing.
    private static readonly long WalCheckTicks = Stopwatch.Frequency / 100;

    /// <summary>
    /// Keeps the WAL under <see cref="SqliteStoreOptions.WalLimitBytes"/>. Under continuous writes the background's
    /// passive checkpoint copies most frames but never catches up with the last ones, so SQLite never restarts the WAL
    /// and the file only grows. Between two batches nothing else writes: a passive checkpoint here copies the few
    /// frames the background has not (it did the bulk, and its fsync, off this thread) and completes unless a reader
    /// still needs them; then the next commit starts the WAL over from its beginning, and <c>journal_size_limit</c>
    /// truncates the file. Runs only once the WAL holds half the limit, so it costs the queue one short stall per
    /// half-limit of WAL; a reader that holds it back only delays it to the next check.
    /// </summary>
    private void BoundWal()
    {
        var now = Stopwatch.GetTimestamp();
        if (now < _nextWalCheck)
        {
            return;
        }

        _nextWalCheck = now + WalCheckTicks;
        try
        {
            // Normally only right after the background has copied the bulk (RequestWalRestart), so what is left to copy
            // here is a few milliseconds of writes; at three quarters of the limit, whatever the background did (a hard
            // bound, with room for what arrives before the next check).
            var wal = new FileInfo(_walPath);
            var requested = Volatile.Read(ref _walRestartRequested) != 0;
            if (!wal.Exists || wal.Length < (requested ? _walCheckpointBytes : 3 * _walCheckpointBytes / 2))
            {
                return;
            }

            Volatile.Write(ref _walRestartRequested, 0);

            using var reader = _checkpoint.ExecuteReader();
            if (reader.Read() && reader.GetInt32(0) == 0 && reader.GetInt32(1) == reader.GetInt32(2))
            {
                Interlocked.Increment(ref _walCheckpoints);
            }
        }
        catch (Exception ex) when (ex is SqliteException or IOException)
        {
            // Not fatal: the WAL only grows until a later check succeeds.
            LogWalCheckpointFailed(ex);
        }
    }

    private void WriteBatch(List<SqliteWriteOperation> batch)
    {
        try
        {
            Commit(batch);
            Complete(batch);
            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            LogBatchFailed(ex, batch.Count);
        }
        catch (Exception ex)
        {
            var error = batch[0].Error ?? ex;
            LogWriteFailed(error, batch[0].Description);
            Fail(batch[0], error);
            return;
        }

        Retry(batch);
    }

    /// <summary>
    /// After a failed commit: each operation again, in its own transaction, so one bad write cannot fail the others
    /// that happened to share its transaction.
    /// </summary>
    private void Retry(List<SqliteWriteOperation> batch)
    {
        var single = new List<SqliteWriteOperation>(1);
        foreach (var operation in batch)
        {
            single.Add(operation);
            try
            {
                Commit(single);
                Complete(single);
            }
            catch (Exception ex)
            {
                // The operation's own error, when it caused the failure, says more than the rollback's.
                var error = operation.Error ?? ex;
                LogWriteFailed(error, operation.Description);
                Fail(operation, error);
            }

            single.Clear();
        }
    }

    private void Commit(List<SqliteWriteOperation> batch)
    {
        var started = Stopwatch.GetTimestamp();
        using var transaction = Begin();
        try
        {
            Run(batch, 0);
            transaction.Commit();
        }
        catch
        {
            RolledBack();
            throw;
        }
        finally
        {
            _context.End();
        }

        Committed(batch, Stopwatch.GetElapsedTime(started));
    }

    private SqliteTransaction Begin()
    {
        var transaction = _connection.BeginTransaction();
        _context.Begin(transaction);
        _context.ClosedUsageIds.Clear();
        _context.ResolvedEntries.Clear();
        return transaction;
    }

    /// <summary>The transaction did not commit: the book's view of it is undone (see <see cref="ReservationBook.RolledBack"/>).</summary>
    private void RolledBack()
    {
        Book.RolledBack(_context.ResolvedEntries);
        _context.ResolvedEntries.Clear();
    }

    /// <summary>
    /// Runs the batch's operations from <paramref name="from"/> on, each under its own savepoint (or as its single
    /// statement); returns how many of the batch have run.
    /// </summary>
    private int Run(List<SqliteWriteOperation> batch, int from)
    {
        var closed = _context.ClosedUsageIds;
        var resolved = _context.ResolvedEntries;
        for (var i = from; i < batch.Count; i++)
        {
            var operation = batch[i];

            // A retry runs the operation again from scratch; forget what the failed batch said about it.
            operation.Error = null;
            var closedBefore = closed.Count;
            var resolvedBefore = resolved.Count;
            if (operation.IsSingleStatement)
            {
                try
                {
                    operation.Execute(_context);
                }
                catch (Exception ex)
                {
                    operation.Error = ex;
                    closed.RemoveRange(closedBefore, closed.Count - closedBefore);
                }

                continue;
            }

            _context.Raw(Savepoint).Execute();
            try
            {
                operation.Execute(_context);
            }
            catch (Exception ex)
            {
                // Only this operation is undone; the failure is its caller's, reported after the commit. After
                // SQLITE_FULL, IOERR or NOMEM SQLite may already have rolled back the whole transaction, savepoint
                // included: then this throws, and the batch is retried one operation per transaction.
                operation.Error = ex;
                closed.RemoveRange(closedBefore, closed.Count - closedBefore);
                if (resolved.Count > resolvedBefore)
                {
                    Book.RolledBack(resolved.GetRange(resolvedBefore, resolved.Count - resolvedBefore));
                    resolved.RemoveRange(resolvedBefore, resolved.Count - resolvedBefore);
                }

                _context.Raw(RollbackToSavepoint).Execute();
            }

            _context.Raw(ReleaseSavepoint).Execute();
        }

        return batch.Count;
    }

    private void Committed(List<SqliteWriteOperation> batch, TimeSpan duration)
    {
        // Committed: these records are closed in usage_records, so their opens in the journal are no longer needed.
        var closed = _context.ClosedUsageIds;
        Journal.Acknowledge(closed);
        closed.Clear();
        Book.Committed(_context.ResolvedEntries);
        _context.ResolvedEntries.Clear();
        _metrics?.RecordCommit(batch.Count, duration);
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _committedWrites, batch.Count);
        if (batch.Count > _largestBatch)
        {
            Volatile.Write(ref _largestBatch, batch.Count);
        }
    }

    private void Complete(List<SqliteWriteOperation> batch)
    {
        foreach (var operation in batch)
        {
            Answer(operation);
        }
    }

    private void Answer(SqliteWriteOperation operation)
    {
        if (operation.Error is { } error && !IsCallerError(error))
        {
            LogWriteFailed(error, operation.Description);
        }

        if (operation.ResumesWithBatch)
        {
            _resume.Add(operation);
        }
        else
        {
            operation.Complete();
        }
    }

    /// <summary>The transaction holding the operation did not commit: its caller has the error.</summary>
    private void Fail(SqliteWriteOperation operation, Exception error)
    {
        if (operation.ResumesWithBatch)
        {
            // Its completion runs its caller's continuation inline: never on this thread.
            operation.Error = error;
            _resume.Add(operation);
        }
        else
        {
            operation.Fail(error);
        }
    }

    /// <summary>
    /// Resumes the callers of the batch's <see cref="SqliteWriteOperation.ResumesWithBatch"/> operations, one after
    /// another on one thread-pool work item: one hand-off for the batch instead of one per close.
    /// </summary>
    private void ResumeTogether()
    {
        if (_resume.Count == 0)
        {
            return;
        }

        var resume = _resume;
        _resume = new List<SqliteWriteOperation>(resume.Count);
        ThreadPool.UnsafeQueueUserWorkItem(static operations =>
        {
            foreach (var operation in operations)
            {
                operation.Complete();
            }
        }, resume, preferLocal: false);
    }

    // The caller asked for something that is not there or not allowed: its answer, not a store fault worth an error log.
    private static bool IsCallerError(Exception exception) => exception is KeyNotFoundException or ArgumentException;

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning,
        Message = "A group commit of {Count} writes failed; retrying them one by one")]
    private partial void LogBatchFailed(Exception exception, int count);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Error, Message = "Write {Operation} failed")]
    private partial void LogWriteFailed(Exception exception, string operation);


    [LoggerMessage(EventId = 1113, Level = LogLevel.Warning, Message = "WAL checkpoint at shutdown failed")]
    private partial void LogCheckpointFailed(Exception exception);

    [LoggerMessage(EventId = 1115, Level = LogLevel.Warning, Message = "WAL checkpoint on the writer failed; the next check tries again")]
    private partial void LogWalCheckpointFailed(Exception exception);

    [LoggerMessage(EventId = 1114, Level = LogLevel.Information,
        Message = "Store writer stopped after {Transactions} transactions holding {Writes} writes")]
    private partial void LogStopped(long transactions, long writes);
}
