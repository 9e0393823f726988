namespace MeterAgent.Ledger.RateLimits;

/// <summary>What an admitted request was charged, to correct when it ends (<see cref="IRateLimiter.SettleAsync"/>).</summary>
public sealed record RateLimitLease(string AccountId, string KeyId, long EstimatedTokens);
