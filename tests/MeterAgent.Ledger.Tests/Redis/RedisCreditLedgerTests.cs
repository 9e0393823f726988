using MeterAgent.Ledger.Tests.Credits;

namespace MeterAgent.Ledger.Tests.Redis;

// The behavioural suite (Credits/) bound to the Redis backend, unchanged: every class the SQLite backend runs, against
// one Redis server and again against a three-master Redis Cluster, each test under a key prefix of its own.

[Collection(RedisServerCollection.Name)]
public sealed class RedisCorrectionTests(RedisServerFixture redis) : CorrectionTests
{
    private RedisLedgerStores? _stores;

    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(_stores = redis.OpenStores());

    protected override (long Delta, string Reason, long At)[] Audit(string lotId) => _stores!.RedisLedger.GetCorrectionsAsync(lotId).GetAwaiter().GetResult();
}

[Collection(RedisServerCollection.Name)]
public sealed class RedisDeliveryTests(RedisServerFixture redis) : DeliveryTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisServerCollection.Name)]
public sealed class RedisPolicyTests(RedisServerFixture redis) : PolicyTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisServerCollection.Name)]
public sealed class RedisRedemptionOrderTests(RedisServerFixture redis) : RedemptionOrderTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisServerCollection.Name)]
public sealed class RedisReservationLifecycleTests(RedisServerFixture redis) : ReservationLifecycleTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisServerCollection.Name)]
public sealed class RedisSettleAndCloseTests(RedisServerFixture redis) : SettleAndCloseTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisServerCollection.Name)]
public sealed class RedisLedgerInvariantTests(RedisServerFixture redis) : LedgerInvariantTests
{
    protected override ILedgerStores OpenStores() => redis.OpenStores();
}

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterCorrectionTests(RedisClusterFixture redis) : CorrectionTests
{
    private RedisLedgerStores? _stores;

    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(_stores = redis.OpenStores());

    protected override (long Delta, string Reason, long At)[] Audit(string lotId) => _stores!.RedisLedger.GetCorrectionsAsync(lotId).GetAwaiter().GetResult();
}

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterDeliveryTests(RedisClusterFixture redis) : DeliveryTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterPolicyTests(RedisClusterFixture redis) : PolicyTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterRedemptionOrderTests(RedisClusterFixture redis) : RedemptionOrderTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterReservationLifecycleTests(RedisClusterFixture redis) : ReservationLifecycleTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterSettleAndCloseTests(RedisClusterFixture redis) : SettleAndCloseTests
{
    protected override Task<ILedgerStores> OpenStoresAsync() => Task.FromResult<ILedgerStores>(redis.OpenStores());
}

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterLedgerInvariantTests(RedisClusterFixture redis) : LedgerInvariantTests
{
    protected override ILedgerStores OpenStores() => redis.OpenStores();
}
