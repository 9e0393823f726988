using MeterAgent.Ledger.RateLimits;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.RateLimits;

/// <summary>
/// Policies in the account's policy hash (<see cref="RateLimitKeys.Policies"/>), where <see cref="RateLimitScript"/>
/// reads them on every admission: a change applies on every replica at the next request, with no cache to expire.
/// </summary>
public sealed class RedisRateLimitPolicyStore : IRateLimitPolicyStore
{
    private readonly IConnectionMultiplexer _redis;
    private readonly string _prefix;

    private readonly RedisRateLimiter? _limiter;

    /// <param name="redis">the shared connection</param>
    /// <param name="keyPrefix">what every key starts with</param>
    /// <param name="limiter">this replica's limiter, told at once when a policy changes here</param>
    public RedisRateLimitPolicyStore(IConnectionMultiplexer redis, string keyPrefix = "", RedisRateLimiter? limiter = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        _redis = redis;
        _prefix = keyPrefix;
        _limiter = limiter;
    }

    public async ValueTask<RateLimitPolicy?> GetAsync(RateLimitSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject.AccountId, nameof(subject));
        var values = await _redis.GetDatabase().HashGetAsync(
            RateLimitKeys.Policies(_prefix, subject.AccountId), Fields(subject.KeyId));
        return values[0].IsNull
            ? null
            : new RateLimitPolicy(values[1].IsNull ? null : (long)values[1], values[2].IsNull ? null : (long)values[2]);
    }

    public async Task SetAsync(RateLimitSubject subject, RateLimitPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject.AccountId, nameof(subject));
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(policy));
        }

        var key = RateLimitKeys.Policies(_prefix, subject.AccountId);
        var fields = Fields(subject.KeyId);
        var entries = new List<HashEntry>(3) { new(fields[0], 1) };
        if (policy.TokensPerMinute is { } tpm)
        {
            entries.Add(new HashEntry(fields[1], tpm));
        }

        if (policy.RequestsPerMinute is { } rpm)
        {
            entries.Add(new HashEntry(fields[2], rpm));
        }

        // One MULTI on one slot: a reader sees the old policy or the new one, never half of each.
        var transaction = _redis.GetDatabase().CreateTransaction();
        _ = transaction.HashDeleteAsync(key, [fields[1], fields[2]]);
        _ = transaction.HashSetAsync(key, [.. entries]);
        await transaction.ExecuteAsync();
        _limiter?.Forget(subject.AccountId);
    }

    public async Task<bool> ClearAsync(RateLimitSubject subject, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject.AccountId, nameof(subject));
        var removed = await _redis.GetDatabase().HashDeleteAsync(RateLimitKeys.Policies(_prefix, subject.AccountId), Fields(subject.KeyId));

        // Clearing an explicit "no limit" brings the defaults back.
        _limiter?.Forget(subject.AccountId);
        return removed > 0;
    }

    private static RedisValue[] Fields(string? keyId) =>
        [RateLimitKeys.Field(keyId, RateLimitKeys.Set), RateLimitKeys.Field(keyId, RateLimitKeys.Tpm), RateLimitKeys.Field(keyId, RateLimitKeys.Rpm)];
}
