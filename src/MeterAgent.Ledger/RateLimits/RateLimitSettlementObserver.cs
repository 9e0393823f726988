using MeterAgent.Ledger.Outcomes;

namespace MeterAgent.Ledger.RateLimits;

/// <summary>
/// Corrects an admitted request's rate limit charge once its outcome is settled: the estimate becomes what it used
/// (reference input + reference output, the unit the limits are in), or, never forwarded, nothing at all.
/// </summary>
public sealed class RateLimitSettlementObserver(IRateLimiter limiter) : ISettlementObserver
{
    public ValueTask OnSettledAsync(SettledRequest settled, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settled);
        var outcome = settled.Outcome;
        if (outcome.RateLimit is not { } lease)
        {
            return ValueTask.CompletedTask;
        }

        var actual = outcome.Forwarded ? outcome.Counts.ReferenceInput + outcome.Counts.ReferenceOutput : 0;
        return limiter.SettleAsync(lease, actual, outcome.Forwarded, cancellationToken);
    }
}
