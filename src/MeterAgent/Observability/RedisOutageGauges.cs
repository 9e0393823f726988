using MeterAgent.Ledger.Availability;
using MeterAgent.Ledger.Redis;

namespace MeterAgent.Observability;

/// <summary>
/// Distributed mode's outage gauges: <c>meteragent.redis.up</c> (1 while Redis is reachable) and
/// <c>meteragent.settle_outbox.pending</c> (credited settles held in the local outbox, not yet closed).
/// </summary>
internal sealed class RedisOutageGauges(MeterAgentMetrics metrics, IStoreAvailability availability, RedisCreditLedger ledger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.Gauge("meteragent.redis.up", "1", "Whether this replica reaches Redis now (1) or not (0).", () => availability.IsAvailable ? 1 : 0);
        metrics.Gauge("meteragent.settle_outbox.pending", "{settle}", "Credited settles held in the local outbox, waiting for their post to Redis.", () => ledger.PendingSettles);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
