using MeterAgent.Ledger.Availability;
using MeterAgent.Ledger.Redis;

namespace MeterAgent.Observability;

/// <summary>
/// Distributed mode's outage gauges: <c>meteragent.redis.up</c> (1 while Redis is reachable) and
/// <c>meteragent.settle_outbox.pending</c> (credited settles held in the local outbox, not yet closed) and
/// <c>meteragent.redis.fail_open_lease.in_use</c> (micro-units of contract credit this replica granted locally during an
/// outage under <c>fail_open</c> and has not yet reconciled in Redis, over every account).
/// </summary>
internal sealed class RedisOutageGauges(MeterAgentMetrics metrics, IStoreAvailability availability, RedisCreditLedger ledger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.Gauge("meteragent.redis.up", "1", "Whether this replica reaches Redis now (1) or not (0).", () => availability.IsAvailable ? 1 : 0);
        metrics.Gauge("meteragent.settle_outbox.pending", "{settle}", "Credited settles held in the local outbox, waiting for their post to Redis.", () => ledger.PendingSettles);
        metrics.Gauge("meteragent.redis.fail_open_lease.in_use", "{micro-unit}",
            "Credit granted locally while Redis was unavailable (fail_open), not yet reconciled in Redis, in micro-units over every account.",
            () => ledger.Lease?.InUseMicro ?? 0);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
