using MeterAgent.Attestation.Entries;
using MeterAgent.Ledger.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.Log;

/// <summary>
/// Ships this replica's closed records to the shared stream. The local log (the replica's SQLite store) is the outbox:
/// every closed record's entry is there first, in order, so shipping is reading it from a cursor. Each batch goes in one
/// script that compares the batch's first index with the replica's cursor in Redis and skips what is below it, then
/// adds the rest and advances the cursor at once: a batch retried after a timeout adds nothing twice, and a restarted
/// replica resumes from the cursor in Redis.
/// </summary>
public sealed partial class RecordShipper(
    SqliteUsageLog local, SqliteDatabase database, IConnectionMultiplexer redis, RedisLogKeys keys, IOptions<RedisLogOptions> options,
    TimeProvider time, ILogger<RecordShipper> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);
    private long _cursor = -1;
    private long _backlog;
    private long _oldestUnshippedMicros;
    private bool _warnedAhead;

    /// <summary>Local entries not in the stream yet (as of the last pass).</summary>
    public long Backlog => Interlocked.Read(ref _backlog);

    /// <summary>How long the oldest unshipped entry's record has been closed; zero when nothing waits.</summary>
    public TimeSpan Lag
    {
        get
        {
            var oldest = Interlocked.Read(ref _oldestUnshippedMicros);
            return oldest == 0 ? TimeSpan.Zero : time.GetUtcNow() - DateTimeOffset.UnixEpoch.AddTicks(oldest * TimeSpan.TicksPerMicrosecond);
        }
    }

    /// <summary>Asks for a pass now (entries were appended locally).</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already woken.
            }
        }
    }

    /// <summary>Ships everything the local log holds beyond the cursor; returns how many entries were added to the stream.</summary>
    public async Task<int> ShipPendingAsync(CancellationToken cancellationToken)
    {
        var batchSize = options.Value.LogBatchSize;
        var added = 0;
        while (true)
        {
            if (_cursor < 0)
            {
                _cursor = (long?)await redis.GetDatabase().StringGetAsync(keys.ShipCursor(options.Value.ReplicaId)) ?? 0;
            }

            var batch = await local.ReadAsync(_cursor, batchSize, cancellationToken);
            if (batch.Count > 0)
            {
                var (batchAdded, cursor) = await ShipAsync(_cursor, batch);
                added += batchAdded;
                _cursor = cursor;
            }

            await UpdateBacklogAsync(cancellationToken);
            if (batch.Count < batchSize)
            {
                return added;
            }
        }
    }

    /// <summary>
    /// Ships <paramref name="entries"/>, the local entries from index <paramref name="from"/> on, in one script; returns
    /// how many the stream did not hold yet and the cursor after them.
    /// </summary>
    internal async Task<(int Added, long Cursor)> ShipAsync(long from, IReadOnlyList<byte[]> entries)
    {
        var args = new RedisValue[3 + (entries.Count * 5)];
        args[0] = options.Value.ReplicaId;
        args[1] = from;
        args[2] = entries.Count;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = UsageEntryEncoding.Decode(entries[i]);
            var b = 3 + (i * 5);
            args[b] = entry.UsageId;
            args[b + 1] = entry.AccountId;
            args[b + 2] = entry.ContractId ?? "";
            args[b + 3] = entry.StartedAtMicros;
            args[b + 4] = entries[i];
        }

        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(
            RedisLogScripts.Ship, [keys.ShipCursor(options.Value.ReplicaId), keys.Stream], args))!;
        var added = (long)result[0];
        var cursor = (long)result[1];
        if (added < 0)
        {
            // The stream's cursor is behind this batch (Redis lost writes it had acknowledged): resume from it; the log
            // skips any record it already holds.
            LogCursorBehind(options.Value.ReplicaId, from, cursor);
            return (0, cursor);
        }

        return ((int)added, cursor);
    }

    private async Task UpdateBacklogAsync(CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries;";
        var size = (long)command.ExecuteScalar()!;
        var backlog = Math.Max(0, size - _cursor);
        long oldest = 0;
        if (backlog > 0)
        {
            var next = await local.ReadAsync(_cursor, 1, cancellationToken);
            oldest = next.Count == 1 ? UsageEntryEncoding.Decode(next[0]).EndedAtMicros : 0;
        }
        else if (size < _cursor && !_warnedAhead)
        {
            _warnedAhead = true;
            LogCursorAhead(options.Value.ReplicaId, _cursor, size);
        }

        Interlocked.Exchange(ref _backlog, backlog);
        Interlocked.Exchange(ref _oldestUnshippedMicros, oldest);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var poll = options.Value.LogPollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ShipPendingAsync(stoppingToken);
                await _wake.WaitAsync(poll, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (RedisUnavailable.IsConnectionFailure(ex))
            {
                // Nothing is lost: the entries stay in the local log and the next pass ships them.
                _cursor = -1;
                LogShipFailed(ex);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shipping closed records to Redis failed; they stay in the local log and are shipped when Redis answers")]
    private partial void LogShipFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {ReplicaId}: the batch from local index {From} is beyond the shipping cursor {Cursor} in Redis; resuming from the cursor")]
    private partial void LogCursorBehind(string replicaId, long from, long cursor);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replica {ReplicaId}: the shipping cursor in Redis ({Cursor}) is beyond the local log ({Size} entries): this local store is not the one the replica id shipped from; give a new store a new Redis:ReplicaId")]
    private partial void LogCursorAhead(string replicaId, long cursor, long size);
}
