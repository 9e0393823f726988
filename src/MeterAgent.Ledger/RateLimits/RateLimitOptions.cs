namespace MeterAgent.Ledger.RateLimits;

/// <summary>
/// Section <c>RateLimits</c>: the limits of an account that has none of its own. Unset is unlimited. An account's own
/// policy (admin API) replaces these as a whole; keys have no default (their account's limits apply to them).
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    public long? DefaultTokensPerMinute { get; set; }

    public long? DefaultRequestsPerMinute { get; set; }

    public RateLimitPolicy Defaults => new(DefaultTokensPerMinute, DefaultRequestsPerMinute);
}
