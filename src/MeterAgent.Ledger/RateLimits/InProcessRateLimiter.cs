using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;

namespace MeterAgent.Ledger.RateLimits;

/// <summary>
/// The embedded (one node) limiter: token buckets in memory, one lock per account held only for the arithmetic (never
/// across an await), so an account's and its keys' buckets are checked and charged as one step and concurrent requests
/// are admitted exactly. Policies come from the <see cref="IRateLimitPolicyStore"/> (answered from memory by the
/// embedded store) with <see cref="RateLimitOptions"/>' defaults for accounts without one. Bucket state is not durable:
/// a restart starts every bucket empty (full limit available).
/// </summary>
public sealed class InProcessRateLimiter : IRateLimiter
{
    private readonly IRateLimitPolicyStore _policies;
    private readonly RateLimitPolicy _defaults;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<string, AccountBuckets> _accounts = new(StringComparer.Ordinal);

    public InProcessRateLimiter(IRateLimitPolicyStore policies, IOptions<RateLimitOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(policies);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(clock);
        _policies = policies;
        _defaults = options.Value.Defaults;
        _clock = clock;
    }

    public bool MayLimitTokens(string accountId, string keyId)
    {
        var account = _policies.GetAsync(RateLimitSubject.Account(accountId));
        var key = _policies.GetAsync(RateLimitSubject.Key(accountId, keyId));
        if (!account.IsCompletedSuccessfully || !key.IsCompletedSuccessfully)
        {
            return true;
        }

        return (account.Result ?? _defaults).TokensPerMinute is not null || key.Result?.TokensPerMinute is not null;
    }

    public async ValueTask<RateLimitDecision> AcquireAsync(string accountId, string keyId, long estimatedTokens, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentOutOfRangeException.ThrowIfNegative(estimatedTokens);
        var accountPolicy = await _policies.GetAsync(RateLimitSubject.Account(accountId), cancellationToken) ?? _defaults;
        var keyPolicy = await _policies.GetAsync(RateLimitSubject.Key(accountId, keyId), cancellationToken) ?? RateLimitPolicy.Unlimited;
        if (accountPolicy.IsUnlimited && keyPolicy.IsUnlimited)
        {
            return RateLimitDecision.Unlimited;
        }

        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        var buckets = _accounts.GetOrAdd(accountId, static _ => new AccountBuckets());
        lock (buckets.Gate)
        {
            var charges = new Charges();
            var count = 0;
            var own = buckets.Own;
            var key = keyPolicy.IsUnlimited ? null : buckets.Key(keyId);
            Add(ref charges, ref count, own.Tokens, accountPolicy.TokensPerMinute, estimatedTokens, tokens: true, "tokens per minute of the account");
            Add(ref charges, ref count, own.Requests, accountPolicy.RequestsPerMinute, 1, tokens: false, "requests per minute of the account");
            if (key is not null)
            {
                Add(ref charges, ref count, key.Tokens, keyPolicy.TokensPerMinute, estimatedTokens, tokens: true, "tokens per minute of the key");
                Add(ref charges, ref count, key.Requests, keyPolicy.RequestsPerMinute, 1, tokens: false, "requests per minute of the key");
            }

            return Admit(ref charges, count, now, new RateLimitLease(accountId, keyId, estimatedTokens));
        }
    }

    public async ValueTask SettleAsync(RateLimitLease lease, long actualTokens, bool forwarded, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentOutOfRangeException.ThrowIfNegative(actualTokens);
        if (!_accounts.TryGetValue(lease.AccountId, out var buckets))
        {
            return;
        }

        // The limits in force now: a policy changed meanwhile drains at its new rate; a limit removed has nothing to correct.
        var accountPolicy = await _policies.GetAsync(RateLimitSubject.Account(lease.AccountId), cancellationToken) ?? _defaults;
        var keyPolicy = await _policies.GetAsync(RateLimitSubject.Key(lease.AccountId, lease.KeyId), cancellationToken) ?? RateLimitPolicy.Unlimited;
        var tokenDelta = (forwarded ? actualTokens : 0) - lease.EstimatedTokens;
        var requestDelta = forwarded ? 0 : -1;
        var now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        lock (buckets.Gate)
        {
            Correct(buckets.Own, accountPolicy, now, tokenDelta, requestDelta);
            if (buckets.ExistingKey(lease.KeyId) is { } key)
            {
                Correct(key, keyPolicy, now, tokenDelta, requestDelta);
            }
        }
    }

    private static void Correct(BucketPair pair, RateLimitPolicy policy, long now, long tokenDelta, long requestDelta)
    {
        if (policy.TokensPerMinute is { } tpm && tokenDelta != 0)
        {
            pair.Tokens.Drain(now, tpm);
            pair.Tokens.Add(tokenDelta);
        }

        if (policy.RequestsPerMinute is { } rpm && requestDelta != 0)
        {
            pair.Requests.Drain(now, rpm);
            pair.Requests.Add(requestDelta);
        }
    }

    private static void Add(ref Charges charges, ref int count, TokenBucket bucket, long? limit, long cost, bool tokens, string label)
    {
        if (limit is { } perMinute)
        {
            charges[count++] = new Charge(bucket, perMinute, cost, tokens, label);
        }
    }

    /// <summary>All the charges fit, and are all made, or none is: the caller holds the account's lock.</summary>
    private static RateLimitDecision Admit(ref Charges charges, int count, long now, RateLimitLease lease)
    {
        var allowed = true;
        var neverFits = false;
        long waitMs = 0;
        string? refusal = null;
        for (var i = 0; i < count; i++)
        {
            ref readonly var charge = ref charges[i];
            charge.Bucket.Drain(now, charge.Limit);
            if (charge.Bucket.Fits(charge.Cost, charge.Limit))
            {
                continue;
            }

            allowed = false;
            refusal ??= charge.Label;
            if (charge.Cost > charge.Limit)
            {
                neverFits = true;
                refusal = charge.Label;
            }
            else
            {
                waitMs = Math.Max(waitMs, charge.Bucket.WaitMs(charge.Cost, charge.Limit));
            }
        }

        if (allowed)
        {
            for (var i = 0; i < count; i++)
            {
                charges[i].Bucket.Add(charges[i].Cost);
            }
        }

        RateLimitWindow? tokenWindow = null;
        RateLimitWindow? requestWindow = null;
        for (var i = 0; i < count; i++)
        {
            ref readonly var charge = ref charges[i];
            var window = charge.Bucket.Window(charge.Limit);
            if (charge.IsTokens)
            {
                tokenWindow = Binding(tokenWindow, window);
            }
            else
            {
                requestWindow = Binding(requestWindow, window);
            }
        }

        return new RateLimitDecision(
            allowed,
            allowed || neverFits ? null : TimeSpan.FromMilliseconds(waitMs),
            tokenWindow,
            requestWindow,
            allowed ? lease : null,
            refusal);
    }

    /// <summary>Of two limits of one kind, the one a client runs into first: less left, then the longer reset.</summary>
    internal static RateLimitWindow Binding(RateLimitWindow? current, RateLimitWindow candidate) =>
        current is not { } held || candidate.Remaining < held.Remaining || (candidate.Remaining == held.Remaining && candidate.Reset > held.Reset)
            ? candidate
            : held;

    private readonly record struct Charge(TokenBucket Bucket, long Limit, long Cost, bool IsTokens, string Label);

    [InlineArray(4)]
    private struct Charges
    {
        private Charge _first;
    }

    private sealed class BucketPair
    {
        public TokenBucket Tokens { get; } = new();

        public TokenBucket Requests { get; } = new();
    }

    /// <summary>An account's buckets and its keys' (keys belong to one account, so one lock covers a request's every charge).</summary>
    private sealed class AccountBuckets
    {
        private Dictionary<string, BucketPair>? _keys;

        public Lock Gate { get; } = new();

        public BucketPair Own { get; } = new();

        public BucketPair Key(string keyId)
        {
            _keys ??= new Dictionary<string, BucketPair>(StringComparer.Ordinal);
            if (!_keys.TryGetValue(keyId, out var pair))
            {
                pair = new BucketPair();
                _keys[keyId] = pair;
            }

            return pair;
        }

        public BucketPair? ExistingKey(string keyId) => _keys is not null && _keys.TryGetValue(keyId, out var pair) ? pair : null;
    }
}
