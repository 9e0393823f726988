using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>
/// The key layout (docs/distributed.md lists it). Every key of one account starts with the prefix and the account's
/// hash tag (<c>{a:ID}</c>), so an account's keys share one Redis Cluster slot and a script can touch all of them
/// atomically. The few global keys (account list, lookup indexes) have no tag: each lands in a slot of its own and is
/// only ever touched by single-key commands.
/// </summary>
public sealed class RedisKeys
{
    public RedisKeys(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            throw new ArgumentException($"The key prefix '{prefix}' holds a brace; the account's hash tag must be the key's first.", nameof(prefix));
        }

        Prefix = prefix;
        Accounts = prefix + "accounts";
        PendingAccounts = prefix + "pending-accounts";
        ReservingAccounts = prefix + "reserving-accounts";
    }

    public string Prefix { get; }

    /// <summary>Sorted set: every account id, scored by creation time (µs); ties in id order.</summary>
    public RedisKey Accounts { get; }

    /// <summary>
    /// Set, from earlier versions: the accounts that had ever reserved. The expiry sweep moves its members to
    /// <see cref="ReservingAccounts"/> and removes them here, so a replica still on an earlier version during a rolling
    /// upgrade loses none.
    /// </summary>
    public RedisKey PendingAccounts { get; }

    /// <summary>
    /// Sorted set: the accounts the expiry sweep visits, scored by their latest reserve (Unix µs). The sweep forgets an
    /// account with nothing pending once its latest reserve is older than <see cref="RedisCreditLedger.SweepForgetAfter"/>;
    /// its next reserve adds it again.
    /// </summary>
    public RedisKey ReservingAccounts { get; }

    /// <summary>The hash tag every key of <paramref name="accountId"/> carries.</summary>
    public static string AccountTag(string accountId) => "{a:" + accountId + "}";

    /// <summary>
    /// What every key of the account starts with: the prefix, its tag and a colon. Scripts get it as their first
    /// argument and build the account's other keys from it, so they only ever touch keys in the account's slot.
    /// </summary>
    public string AccountSpace(string accountId) => Prefix + AccountTag(accountId) + ":";

    /// <summary>Hash: the account itself (id, name, created µs). Its existence is the account's.</summary>
    public RedisKey Account(string accountId) => AccountSpace(accountId) + "account";

    /// <summary>Hash: key id → <c>sha256hex|display prefix|created µs|revoked µs or empty</c>.</summary>
    public RedisKey Keys(string accountId) => AccountSpace(accountId) + "keys";

    /// <summary>String (global): a key's SHA-256 → <c>account id key id</c>, to find the account of a presented key.</summary>
    public RedisKey KeyHash(string hashHex) => Prefix + "keyhash:" + hashHex;

    /// <summary>String (global): key id → account id, for a revocation by key id.</summary>
    public RedisKey KeyId(string keyId) => Prefix + "keyid:" + keyId;

    /// <summary>String (global): lot id → account id, for a correction by lot id.</summary>
    public RedisKey LotIndex(string lotId) => Prefix + "lot:" + lotId;

    /// <summary>String (global): delivery id → account id, so a delivery id is used once across accounts.</summary>
    public RedisKey DeliveryIndex(string deliveryId) => Prefix + "delivery:" + deliveryId;

    /// <summary>String (global, expires after the retention): reservation id → account id, for post, void and reads by id.</summary>
    public RedisKey ReservationIndex(string reservationId) => Prefix + "res:" + reservationId;

    /// <summary>Sorted set: the account's lot ids, scored by window end (µs), so a draw reads only lots still open.</summary>
    public RedisKey Lots(string accountId) => AccountSpace(accountId) + "lots";

    /// <summary>Hash: one lot (contract, version, delivery, delivered, available, pending, redeemed, window, delivered at).</summary>
    public RedisKey Lot(string accountId, string lotId) => AccountSpace(accountId) + "lot:" + lotId;

    /// <summary>Hash: delivery id → <c>payload sha256|lot id</c>, the account's applied deliveries.</summary>
    public RedisKey Deliveries(string accountId) => AccountSpace(accountId) + "deliveries";

    /// <summary>Sorted set: the account's pending reservation ids, scored by deadline (µs), for the expiry sweep.</summary>
    public RedisKey Pending(string accountId) => AccountSpace(accountId) + "pending";

    /// <summary>Hash: one reservation (inside the account's space: <c>res:ID</c>).</summary>
    public RedisKey Reservation(string accountId, string reservationId) => AccountSpace(accountId) + "res:" + reservationId;

    /// <summary>List: a lot's corrections, oldest first, each <c>delta|at µs|reason</c>.</summary>
    public RedisKey Corrections(string accountId, string lotId) => AccountSpace(accountId) + "corrections:" + lotId;

    /// <summary>String: the account's overage not yet billed (µ-units).</summary>
    public RedisKey Overage(string accountId) => AccountSpace(accountId) + "overage";

    /// <summary>String: what the account's pending reservations were granted beyond their credits (µ-units), for allow_up_to.</summary>
    public RedisKey OverageHeld(string accountId) => AccountSpace(accountId) + "overage-held";

    /// <summary>Hash: the account's overage policy (kind, limit).</summary>
    public RedisKey Policy(string accountId) => AccountSpace(accountId) + "policy";
}
