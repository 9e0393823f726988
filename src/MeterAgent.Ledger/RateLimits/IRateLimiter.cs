namespace MeterAgent.Ledger.RateLimits;

/// <summary>
/// Token and request rate limits per account and per key. A request is charged at admission, before it goes upstream:
/// one request and its token estimate, against the account's and the key's limits in one atomic step, so concurrent
/// requests cannot all pass before any usage is counted. When it ends, <see cref="SettleAsync"/> corrects the charge to
/// what it really used. See docs/rate-limits.md for the algorithm and its worst-case overshoot.
/// </summary>
public interface IRateLimiter
{
    /// <summary>
    /// Whether a token limit may apply to the key's requests, so the caller must count input tokens before forwarding.
    /// A backend that cannot tell without a round trip answers true.
    /// </summary>
    bool MayLimitTokens(string accountId, string keyId);

    /// <summary>
    /// Charges one request and <paramref name="estimatedTokens"/> against every limit that applies to the key and its
    /// account, all or none: a refusal charges nothing. <see cref="RateLimitDecision.Unlimited"/> when no limit applies.
    /// </summary>
    ValueTask<RateLimitDecision> AcquireAsync(string accountId, string keyId, long estimatedTokens, CancellationToken cancellationToken = default);

    /// <summary>
    /// Corrects an admitted request's charge: by (actual − estimate) tokens, a refund or an extra charge, and by the
    /// request itself when it was never forwarded (then <paramref name="actualTokens"/> is 0). Call once per lease.
    /// </summary>
    ValueTask SettleAsync(RateLimitLease lease, long actualTokens, bool forwarded, CancellationToken cancellationToken = default);
}
