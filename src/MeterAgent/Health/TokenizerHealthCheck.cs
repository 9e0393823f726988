using MeterAgent.Metering.Tokenization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MeterAgent.Health;

/// <summary>
/// Ready only once the reference tokenizer's rank data is loaded and counts: every record's reference counts come from
/// it. The first check loads it, so a replica does not take traffic before its first count could be slow or fail.
/// </summary>
internal sealed class TokenizerHealthCheck : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var tokenizer = ReferenceTokenizer.Instance;
            return Task.FromResult(tokenizer.CountTokens("hello world") == 2
                ? HealthCheckResult.Healthy($"{tokenizer.Name} sha256:{tokenizer.RankDataSha256}")
                : HealthCheckResult.Unhealthy($"{tokenizer.Name} counts 'hello world' wrongly"));
        }
        catch (Exception ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("reference tokenizer did not load", ex));
        }
    }
}
