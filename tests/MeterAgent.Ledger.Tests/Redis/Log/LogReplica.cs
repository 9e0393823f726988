using MeterAgent.Ledger.Redis.Log;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Tests.Sqlite;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Tests.Redis.Log;

/// <summary>One replica's log objects, wired as AddRedisLogStore wires them: its own SQLite file, the shared Redis.</summary>
internal sealed class LogReplica : IAsyncDisposable
{
    private readonly TempFolder _folder = new("meteragent-redis-log-");
    private readonly TestStore _store;

    public LogReplica(IConnectionMultiplexer redis, string replicaId, TimeSpan? leaseTtl = null, int batchSize = 256, string prefix = "t:")
    {
        Options = Microsoft.Extensions.Options.Options.Create(new RedisLogOptions
        {
            KeyPrefix = prefix,
            ReplicaId = replicaId,
            LogLeaseTtl = leaseTtl ?? TimeSpan.FromSeconds(10),
            LogBatchSize = batchSize,
            LogPollInterval = TimeSpan.FromMilliseconds(20),
        });
        Redis = redis;
        Keys = new RedisLogKeys(prefix);
        _store = TestStore.Open(_folder.DbPath);
        Local = new SqliteUsageLog(_store.Database, _store.Writer);
        Lease = new RedisLogLease(redis, Keys, Options, TimeProvider.System, NullLogger<RedisLogLease>.Instance);
        Shipper = NewShipper();
        Log = new RedisUsageLog(Local, Shipper, redis, Keys);
        Appender = new SharedLogAppender(redis, Keys, Lease, Options, TimeProvider.System, NullLogger<SharedLogAppender>.Instance);
        Statements = new RedisStatementStore(redis, Keys, Lease);
        Checkpoints = new RedisCheckpoints(redis, Keys);
    }

    public IOptions<RedisLogOptions> Options { get; }

    public IConnectionMultiplexer Redis { get; }

    public RedisLogKeys Keys { get; }

    public SqliteUsageLog Local { get; }

    public RedisLogLease Lease { get; }

    public RecordShipper Shipper { get; private set; }

    public RedisUsageLog Log { get; }

    public SharedLogAppender Appender { get; }

    public RedisStatementStore Statements { get; }

    public RedisCheckpoints Checkpoints { get; }

    /// <summary>A shipper as a restarted process makes it: it knows nothing but what Redis and the local file hold.</summary>
    public RecordShipper NewShipper() =>
        new(Local, _store.Database, Redis, Keys, Options, TimeProvider.System, NullLogger<RecordShipper>.Instance);

    public void Restart() => Shipper = NewShipper();

    /// <summary>Closed records of <paramref name="count"/>, appended to the local log as the appender would.</summary>
    public async Task<List<UsageRecord>> CloseAsync(int count, string? contractId = "contract-a", DateTimeOffset? start = null)
    {
        var records = new List<UsageRecord>();
        for (var i = 0; i < count; i++)
        {
            var started = (start ?? UsageRecords.T0).AddMilliseconds(i);
            var record = UsageRecords.Minimal(startedAt: started);
            record.Status = UsageStatus.Completed;
            record.EndedAt = started.AddSeconds(1);
            record.ContractId = contractId;
            records.Add(record);
        }

        await Log.AppendAsync(records);
        return records;
    }

    public async ValueTask DisposeAsync()
    {
        Shipper.Dispose();
        Lease.Dispose();
        Appender.Dispose();
        await _store.DisposeAsync();
        _folder.Dispose();
    }
}
