namespace MeterAgent.Ledger.Redis.Log;

/// <summary>
/// The attestation log's settings in distributed mode, bound from section <c>Redis</c> (the same section as the
/// connection): <c>Redis:KeyPrefix</c>, <c>Redis:ReplicaId</c>, <c>Redis:LogLeaseTtl</c>.
/// </summary>
public sealed class RedisLogOptions
{
    public const string SectionName = "Redis";

    /// <summary>Put before every key, so several deployments can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "meteragent:";

    /// <summary>
    /// This replica's name in the shared log: its shipping cursor and its lease are kept under it. It must be unique
    /// among the replicas and stable for as long as the replica keeps its local store (the cursor counts that store's
    /// log entries): a replica that starts on a new, empty store must get a new id. Default: the machine name.
    /// </summary>
    public string ReplicaId { get; set; } = Environment.MachineName;

    /// <summary>
    /// How long the log lease lasts without a renewal: the holder renews every third of it, and another replica takes
    /// over at most this long after the holder stops renewing.
    /// </summary>
    public TimeSpan LogLeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Entries per shipping script and per append script.</summary>
    public int LogBatchSize { get; set; } = 256;

    /// <summary>How often the holder looks for shipped entries, and the shipper for local ones nobody woke it for.</summary>
    public TimeSpan LogPollInterval { get; set; } = TimeSpan.FromMilliseconds(200);
}
