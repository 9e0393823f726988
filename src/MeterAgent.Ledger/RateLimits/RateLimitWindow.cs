namespace MeterAgent.Ledger.RateLimits;

/// <summary>
/// One kind of limit as a client sees it (the <c>x-ratelimit-*-tokens</c> or <c>-requests</c> headers): the limit per
/// minute, what is left now, and how long until the whole limit is available again. With both an account and a key
/// limit, the one with less left.
/// </summary>
public readonly record struct RateLimitWindow(long Limit, long Remaining, TimeSpan Reset);
