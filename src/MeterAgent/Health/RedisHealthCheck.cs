using MeterAgent.Ledger.Availability;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MeterAgent.Health;

/// <summary>
/// Distributed mode's shared store in readiness: unhealthy (503) while Redis is unreachable under <c>fail_closed</c>,
/// since every new metered request would be refused; degraded (still 200) under <c>fail_open</c>, which serves them from
/// a bounded local credit lease.
/// </summary>
internal sealed class RedisHealthCheck(IStoreAvailability availability) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (availability.IsAvailable)
        {
            return Task.FromResult(HealthCheckResult.Healthy("redis reachable"));
        }

        return Task.FromResult(availability.Policy == OutagePolicy.FailOpen
            ? HealthCheckResult.Degraded("redis unavailable; fail_open: credited requests are served from the local lease")
            : HealthCheckResult.Unhealthy("redis unavailable; fail_closed: new metered requests are refused"));
    }
}
