using MeterAgent.Ledger.RateLimits;

namespace MeterAgent.Ledger.Tests.RateLimits;

/// <summary>
/// One backend's rate limits for a test: a limiter, a second limiter over the same state (another replica; the same
/// object for the embedded store), the policy store, and a way to make accounts the store accepts.
/// </summary>
public abstract class RateLimitHarness : IAsyncDisposable
{
    public required IRateLimiter Limiter { get; init; }

    public required IRateLimiter Replica { get; init; }

    public required IRateLimitPolicyStore Policies { get; init; }

    public abstract Task<string> NewAccountAsync();

    public abstract ValueTask DisposeAsync();
}
