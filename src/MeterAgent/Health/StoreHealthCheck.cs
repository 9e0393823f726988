using MeterAgent.Ledger.Hosting;
using MeterAgent.Ledger.Usage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MeterAgent.Health;

/// <summary>
/// Ready only while the usage store answers a read and commits a write: every metered request is written ahead before
/// it goes upstream, so a store that still reads but cannot write would take requests it cannot record.
/// </summary>
internal sealed class StoreHealthCheck(IUsageStore usage, IStoreWriteProbe probe) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await usage.QueryAsync(new UsageQuery(Limit: 1), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("usage store does not answer reads", ex);
        }

        try
        {
            await probe.ProbeWriteAsync(cancellationToken);
            return HealthCheckResult.Healthy("reads and commits");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("usage store cannot commit a write", ex);
        }
    }
}
