using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.Log;

/// <summary>
/// While this replica holds the lease: reads the stream from the last consumed id and appends each shipped record to
/// the shared log, in stream order, in one script per batch that checks the fencing token and the consumed id, skips a
/// record the log already holds, and records the new consumed id, all at once. The stream's order is the order records
/// reached Redis, from every replica; the log's order is that order, each record once.
/// </summary>
public sealed partial class SharedLogAppender(
    IConnectionMultiplexer redis, RedisLogKeys keys, RedisLogLease lease, IOptions<RedisLogOptions> options, TimeProvider time,
    ILogger<SharedLogAppender> logger) : BackgroundService
{
    private const string Origin = "0-0";

    /// <summary>Appends every shipped record not consumed yet, with <paramref name="token"/>; returns how many entered the log.</summary>
    /// <exception cref="LogFencedException">The token is not the latest: another replica holds the lease.</exception>
    public async Task<int> AppendPendingAsync(long token)
    {
        var appended = 0;
        while (true)
        {
            var (batch, read) = await AppendBatchAsync(token);
            appended += batch;
            if (read < options.Value.LogBatchSize)
            {
                return appended;
            }
        }
    }

    /// <summary>One batch: returns the records appended and the stream entries read.</summary>
    internal async Task<(int Appended, int Read)> AppendBatchAsync(long token)
    {
        var db = redis.GetDatabase();
        var consumed = (string?)await db.StringGetAsync(keys.Consumed) ?? Origin;
        var shipped = await db.StreamRangeAsync(keys.Stream, "(" + consumed, "+", options.Value.LogBatchSize);
        if (shipped.Length == 0)
        {
            return (0, 0);
        }

        var keyList = new List<RedisKey>(6 + shipped.Length) { keys.Fence, keys.Consumed, keys.Entries, keys.Ids, keys.Contracts, keys.Stream };
        var args = new RedisValue[4 + (shipped.Length * 4)];
        args[0] = RedisLogLease.Format(token);
        args[1] = consumed;
        args[2] = (string?)shipped[^1].Id;
        args[3] = shipped.Length;
        for (var i = 0; i < shipped.Length; i++)
        {
            var fields = shipped[i];
            var contract = (string?)fields["c"] ?? "";
            var b = 4 + (i * 4);
            args[b] = fields["u"];
            args[b + 1] = contract;
            args[b + 2] = fields["s"];
            args[b + 3] = fields["e"];
            keyList.Add(contract.Length == 0 ? keys.Contracts : keys.ContractLeaves(contract));
        }

        var result = (RedisResult[])(await db.ScriptEvaluateAsync(RedisLogScripts.Append, [.. keyList], args))!;
        var appended = (long)result[0];
        if (appended == -1)
        {
            throw new LogFencedException();
        }

        if (appended == -2)
        {
            // Another holder moved the consumed id since it was read: whatever this one read is in the log or is
            // read again next time. Only a stale holder gets here, and its token is refused next.
            return (0, 0);
        }

        return ((int)appended, shipped.Length);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (lease.Token is { } token)
                {
                    await AppendPendingAsync(token);
                }
            }
            catch (LogFencedException)
            {
                lease.Drop("the log refused its fencing token");
            }
            catch (Exception ex) when (RedisUnavailable.IsConnectionFailure(ex) || ex is FormatException)
            {
                LogAppendFailed(ex);
            }

            try
            {
                await Task.Delay(options.Value.LogPollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Appending shipped records to the shared log failed; the next pass retries")]
    private partial void LogAppendFailed(Exception exception);
}
