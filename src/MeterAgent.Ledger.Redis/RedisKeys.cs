using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>
/// The key layout. Every key of one account carries the account id as its hash tag (<c>{a:ID}</c>), so an account's keys
/// share one Redis Cluster slot and a script can touch all of them atomically.
/// </summary>
public static class RedisKeys
{
    /// <summary>The hash tag every key of <paramref name="accountId"/> starts with.</summary>
    public static string AccountTag(string accountId) => "{a:" + accountId + "}";

    public static RedisKey Account(string prefix, string accountId) => prefix + AccountTag(accountId) + ":account";
}
