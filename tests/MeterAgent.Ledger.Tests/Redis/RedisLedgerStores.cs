using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Redis;
using MeterAgent.Ledger.Tests.Credits;
using MeterAgent.Ledger.Tests.Sqlite;
using MeterAgent.Ledger.Usage;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Tests.Redis;

/// <summary>
/// The Redis backend for the behavioural suite: accounts and credits under a key prefix no other test uses, on a
/// shared server; usage records in a fresh local SQLite store, as a replica keeps them in distributed mode.
/// </summary>
internal sealed class RedisLedgerStores : ILedgerStores
{
    public static readonly TimeSpan KeyCacheTtl = TimeSpan.FromSeconds(5);

    private readonly TempFolder _dir = new("meteragent-redis-local-");

    public RedisLedgerStores(IConnectionMultiplexer multiplexer, TimeProvider? time = null)
    {
        Time = time ?? TimeProvider.System;
        Connection = new RedisConnection(multiplexer, "t" + Guid.NewGuid().ToString("N")[..16] + ":", TimeSpan.FromDays(7));
        Local = TestStore.Open(_dir.DbPath);
        RedisAccounts = NewAccountStore();
        RedisLedger = new RedisCreditLedger(Connection, Local.Usage);
    }

    public TimeProvider Time { get; }

    public RedisConnection Connection { get; }

    /// <summary>The replica's local store; only its usage records are used.</summary>
    public TestStore Local { get; }

    public RedisAccountStore RedisAccounts { get; }

    public RedisCreditLedger RedisLedger { get; }

    public IAccountStore Accounts => RedisAccounts;

    public IUsageStore Usage => Local.Usage;

    public ICreditLedger Ledger => RedisLedger;

    /// <summary>Another replica's account store: same Redis and prefix, a key cache of its own.</summary>
    public RedisAccountStore NewAccountStore() => new(Connection, Time, KeyCacheTtl, 10_000);

    public async ValueTask DisposeAsync()
    {
        await Local.DisposeAsync();
        _dir.Dispose();
    }
}
