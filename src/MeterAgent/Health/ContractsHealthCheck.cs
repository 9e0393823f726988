using MeterAgent.Contracts.Specs;
using MeterAgent.Credits;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace MeterAgent.Health;

/// <summary>
/// The contract specs credits redeem under. They load at start, and a folder that does not load stops start-up, so a
/// running agent always has its catalog; what can change under it is the folder. A spec dropped in that does not load
/// would stop the next start, and credits on with no spec refuse every credited request: both are reported as degraded
/// (still ready, since this replica serves as it did and any other would too), naming the file and field.
/// </summary>
internal sealed class ContractsHealthCheck(IServiceProvider services, IOptions<CreditsOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Enabled)
        {
            return Task.FromResult(HealthCheckResult.Healthy("credits off: no contracts needed"));
        }

        ContractCatalog catalog;
        try
        {
            catalog = services.GetRequiredService<ContractCatalog>();
        }
        catch (ContractSpecException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("contract specs did not load", ex));
        }

        try
        {
            ContractCatalog.LoadFolder(Path.GetFullPath(options.Value.ContractsPath));
        }
        catch (Exception ex) when (ex is ContractSpecException or IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"{catalog.All.Count} contract specs loaded, but the folder no longer loads, so the next start will stop: {ex.Message}"));
        }

        return Task.FromResult(catalog.All.Count == 0
            ? HealthCheckResult.Degraded("credits on and no contract spec loaded: every credited request is refused")
            : HealthCheckResult.Healthy($"{catalog.All.Count} contract specs loaded"));
    }
}
