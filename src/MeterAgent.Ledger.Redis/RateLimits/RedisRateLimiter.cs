using System.Collections.Concurrent;
using MeterAgent.Ledger.RateLimits;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.RateLimits;

/// <summary>
/// Rate limits shared by every replica: each admission and each correction is one call of <see cref="RateLimitScript"/>
/// on the account's slot, which reads the policies and charges the account's and the key's buckets atomically. The
/// caller's clock drives the buckets (it must be kept in sync across replicas, as for reservation expiry; a replica
/// ahead by s seconds drains the buckets it touches by up to s seconds' worth early).
/// </summary>
public sealed class RedisRateLimiter : IRateLimiter
{
    private readonly IConnectionMultiplexer _redis;
    private readonly string _prefix;
    private readonly RedisValue _defaultTokens;
    private readonly RedisValue _defaultRequests;
    private readonly TimeProvider _clock;

    // Accounts and keys the script last found under no limit at all, and until when (Unix ms) that is trusted: while it
    // is, a request makes no call (a policy set on another replica applies here within that time; one set here at once).
    private readonly ConcurrentDictionary<(string AccountId, string KeyId), long> _unlimitedUntil = new();
    private readonly long _unlimitedMemoryMs;

    /// <param name="redis">the shared connection</param>
    /// <param name="options">the default limits</param>
    /// <param name="clock">the buckets' clock</param>
    /// <param name="keyPrefix">what every key starts with</param>
    /// <param name="unlimitedMemory">how long a replica trusts that an account and key have no limit (default 5 s)</param>
    public RedisRateLimiter(IConnectionMultiplexer redis, IOptions<RateLimitOptions> options, TimeProvider clock, string keyPrefix = "", TimeSpan? unlimitedMemory = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        _redis = redis;
        _prefix = keyPrefix;
        _clock = clock;
        var defaults = options.Value.Defaults;
        _defaultTokens = defaults.TokensPerMinute is { } tpm ? tpm : RedisValue.EmptyString;
        _defaultRequests = defaults.RequestsPerMinute is { } rpm ? rpm : RedisValue.EmptyString;
        _unlimitedMemoryMs = (long)(unlimitedMemory ?? DefaultUnlimitedMemory).TotalMilliseconds;
    }

    /// <summary>How long a replica trusts, by default, that an account and key have no limit.</summary>
    public static readonly TimeSpan DefaultUnlimitedMemory = TimeSpan.FromSeconds(5);

    /// <summary>Most account and key pairs remembered as unlimited; past it the memory starts over.</summary>
    internal const int UnlimitedMemoryCapacity = 100_000;

    /// <summary>Always true: whether a policy exists is only known in Redis, and asking would cost a round trip.</summary>
    public bool MayLimitTokens(string accountId, string keyId) => !KnownUnlimited(accountId, keyId);

    /// <summary>Forgets what was remembered about the account (its policy or one of its keys' changed on this replica).</summary>
    internal void Forget(string accountId)
    {
        foreach (var entry in _unlimitedUntil.Keys)
        {
            if (entry.AccountId == accountId)
            {
                _unlimitedUntil.TryRemove(entry, out _);
            }
        }
    }

    private bool KnownUnlimited(string accountId, string keyId) =>
        _unlimitedUntil.TryGetValue((accountId, keyId), out var until) && _clock.GetUtcNow().ToUnixTimeMilliseconds() < until;

    public async ValueTask<RateLimitDecision> AcquireAsync(string accountId, string keyId, long estimatedTokens, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfNegative(estimatedTokens);
        if (KnownUnlimited(accountId, keyId))
        {
            return RateLimitDecision.Unlimited; // no round trip: nothing limits this account and key
        }

        var result = await RunAsync("a", accountId, keyId, estimatedTokens, 1);
        var values = (RedisResult[])result!;
        if ((long)values[0] == 0 && values.Length == 1)
        {
            if (_unlimitedUntil.Count >= UnlimitedMemoryCapacity)
            {
                _unlimitedUntil.Clear();
            }

            _unlimitedUntil[(accountId, keyId)] = _clock.GetUtcNow().ToUnixTimeMilliseconds() + _unlimitedMemoryMs;
            return RateLimitDecision.Unlimited;
        }

        var allowed = (long)values[0] == 1;
        var wait = (long)values[1];
        return new RateLimitDecision(
            allowed,
            allowed || wait < 0 ? null : TimeSpan.FromMilliseconds(wait),
            Window(values, 2),
            Window(values, 5),
            allowed ? new RateLimitLease(accountId, keyId, estimatedTokens) : null,
            allowed ? null : (string?)values[8]);
    }

    public async ValueTask SettleAsync(RateLimitLease lease, long actualTokens, bool forwarded, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentOutOfRangeException.ThrowIfNegative(actualTokens);
        var tokenDelta = (forwarded ? actualTokens : 0) - lease.EstimatedTokens;
        var requestDelta = forwarded ? 0 : -1;
        if (tokenDelta != 0 || requestDelta != 0)
        {
            await RunAsync("s", lease.AccountId, lease.KeyId, tokenDelta, requestDelta);
        }
    }

    private Task<RedisResult> RunAsync(string mode, string accountId, string keyId, long tokens, long requests)
    {
        RedisKey[] keys =
        [
            RateLimitKeys.Policies(_prefix, accountId),
            RateLimitKeys.AccountBuckets(_prefix, accountId),
            RateLimitKeys.KeyBuckets(_prefix, accountId, keyId),
        ];
        RedisValue[] args =
        [
            mode,
            keyId,
            _clock.GetUtcNow().ToUnixTimeMilliseconds(),
            tokens,
            requests,
            _defaultTokens,
            _defaultRequests,
        ];
        return RateLimitScript.RunAsync(_redis.GetDatabase(), keys, args);
    }

    private static RateLimitWindow? Window(RedisResult[] values, int at) =>
        (long)values[at] < 0
            ? null
            : new RateLimitWindow((long)values[at], (long)values[at + 1], TimeSpan.FromMilliseconds((long)values[at + 2]));
}
