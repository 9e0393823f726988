using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MeterAgent.Health;

/// <summary>Ready only while the usage store answers: without it no request may be metered.</summary>
internal sealed class StoreHealthCheck(IUsageStore usage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await usage.QueryAsync(new UsageQuery(Limit: 1), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("usage store unavailable", ex);
        }
    }
}
