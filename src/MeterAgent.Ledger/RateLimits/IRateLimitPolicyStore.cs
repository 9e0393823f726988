namespace MeterAgent.Ledger.RateLimits;

/// <summary>
/// The limits an operator set for accounts and keys, durable in the store. What is not set here falls back: an account
/// to <see cref="RateLimitOptions"/>' defaults, a key to none (its account's limits still apply to it).
/// </summary>
public interface IRateLimitPolicyStore
{
    /// <summary>The policy set for the subject; null when none was set. On the request path: backends answer from memory where they can.</summary>
    ValueTask<RateLimitPolicy?> GetAsync(RateLimitSubject subject, CancellationToken cancellationToken = default);

    /// <summary>Sets (replaces) the subject's policy; it applies to the next request.</summary>
    Task SetAsync(RateLimitSubject subject, RateLimitPolicy policy, CancellationToken cancellationToken = default);

    /// <summary>Removes the subject's policy; false when none was set.</summary>
    Task<bool> ClearAsync(RateLimitSubject subject, CancellationToken cancellationToken = default);
}
