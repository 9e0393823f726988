using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.RateLimits;

/// <summary>
/// The rate limit keys of one account, all under its hash tag (<see cref="RedisKeys.AccountTag"/>), so the account's
/// and a key's buckets and the policies are in one Cluster slot and one script call reads and charges them together.
/// </summary>
internal static class RateLimitKeys
{
    /// <summary>Hash: the account's policy (<c>set</c>, <c>tpm</c>, <c>rpm</c>) and each key's (<c>k:KEYID:set</c>, ...).</summary>
    public static RedisKey Policies(string prefix, string accountId) => prefix + RedisKeys.AccountTag(accountId) + ":rl:policy";

    /// <summary>Hash: the account's buckets (<c>tl</c>/<c>ta</c> tokens level/drained at, <c>rl</c>/<c>ra</c> requests).</summary>
    public static RedisKey AccountBuckets(string prefix, string accountId) => prefix + RedisKeys.AccountTag(accountId) + ":rl:acct";

    /// <summary>Hash: one key's buckets, same fields as the account's.</summary>
    public static RedisKey KeyBuckets(string prefix, string accountId, string keyId) => prefix + RedisKeys.AccountTag(accountId) + ":rl:key:" + keyId;

    public const string Set = "set";
    public const string Tpm = "tpm";
    public const string Rpm = "rpm";

    /// <summary>The policy hash field <paramref name="name"/> (set, tpm, rpm) of the account (<paramref name="keyId"/> null) or a key.</summary>
    public static RedisValue Field(string? keyId, string name) => keyId is null ? name : "k:" + keyId + ":" + name;
}
