namespace MeterAgent.Ledger.Redis;

/// <summary>
/// The Redis backend (distributed mode), bound from the configuration section <c>Redis</c>:
/// <list type="bullet">
/// <item><c>Redis:ConnectionString</c> — a StackExchange.Redis configuration string: one primary
/// (<c>host:6379</c>) or the nodes of a Redis Cluster (<c>host1:7000,host2:7000,...</c>). Required.</item>
/// <item><c>Redis:KeyPrefix</c> — what every key starts with (default <c>meteragent:</c>), so several deployments can
/// share one Redis. No braces: the hash tag that follows it must be the first one in the key.</item>
/// <item><c>Redis:KeyCacheTtl</c> — how long one replica keeps a key lookup, found or not (default <c>00:00:05</c>, at most
/// 1 hour). A revocation on one replica takes effect on every other replica within this time.</item>
/// <item><c>Redis:KeyCacheCapacity</c> — most cached key lookups per replica (default 10000).</item>
/// <item><c>Redis:ReservationRetention</c> — how long a resolved reservation (and the id index of any reservation) is
/// kept, so a retried post, void or reserve finds it (default 7 days, from 1 hour to 365 days).</item>
/// <item><c>Redis:OutagePolicy</c> — what new metered requests get while Redis cannot be reached: <c>fail_closed</c>
/// (default: 503 in the API's own shape) or <c>fail_open</c> (served against a bounded local credit lease, reconciled
/// from the settle outbox when Redis returns). docs/distributed.md, "Redis unavailable".</item>
/// <item><c>Redis:FailOpenLease</c> — under <c>fail_open</c>, the most contract units (estimates) one replica grants one
/// account on credit while Redis is unreachable and those grants are not yet reconciled in Redis (default 1000; 0 admits
/// nothing on credit during an outage).</item>
/// <item><c>Redis:OutageRetryAfter</c> — the <c>retry-after</c> a request refused for the outage is given (default 5 s).</item>
/// </list>
/// </summary>
public sealed class RedisStoreOptions
{
    public const string SectionName = "Redis";

    public const string DefaultKeyPrefix = "meteragent:";

    public string? ConnectionString { get; set; }

    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    public TimeSpan KeyCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    public int KeyCacheCapacity { get; set; } = 10_000;

    public TimeSpan ReservationRetention { get; set; } = TimeSpan.FromDays(7);

    public const string FailClosed = "fail_closed";

    public const string FailOpen = "fail_open";

    public string OutagePolicy { get; set; } = FailClosed;

    public TimeSpan OutageRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The default <see cref="FailOpenLease"/>, in contract units.</summary>
    public const long DefaultFailOpenLease = 1000;

    /// <summary>The largest <see cref="FailOpenLease"/>: its micro-units must stay within 2^53 − 1 (Lua numbers).</summary>
    public const long MaxFailOpenLease = RedisAmounts.MaxMicro / FailOpenLeaseMicroPerUnit;

    /// <summary>Micro-units in one contract unit.</summary>
    public const long FailOpenLeaseMicroPerUnit = 1_000_000;

    public long FailOpenLease { get; set; } = DefaultFailOpenLease;
}
