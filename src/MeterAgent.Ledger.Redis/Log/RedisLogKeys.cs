using System.Globalization;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.Log;

/// <summary>
/// The shared log's keys. Every one carries the hash tag <c>{log}</c>, so the whole log is one Redis Cluster slot and
/// every script touches its keys atomically on one node (the log is one sequence: it cannot be spread anyway).
/// </summary>
public sealed class RedisLogKeys(string prefix)
{
    public const string Tag = "{log}";

    private readonly string _base = prefix + Tag + ":";

    /// <summary>Stream: closed records shipped by every replica, in the order they reached Redis.</summary>
    public RedisKey Stream => _base + "stream";

    /// <summary>String: how many of the replica's local log entries are in the stream (the next local index to ship).</summary>
    public RedisKey ShipCursor(string replicaId) => _base + "ship:" + replicaId;

    /// <summary>String with expiry: the lease holder, <c>replica|token</c>.</summary>
    public RedisKey Lease => _base + "lease";

    /// <summary>Counter: the fencing token of the latest lease; only the holder of this token may write the log.</summary>
    public RedisKey Fence => _base + "fence";

    /// <summary>String: the last stream id appended to the log.</summary>
    public RedisKey Consumed => _base + "consumed";

    /// <summary>List: the log's entries; an entry's position is its leaf index.</summary>
    public RedisKey Entries => _base + "entries";

    /// <summary>Hash: usage id → leaf index (each record once).</summary>
    public RedisKey Ids => _base + "ids";

    /// <summary>Set: every contract some entry was redeemed under.</summary>
    public RedisKey Contracts => _base + "contracts";

    /// <summary>Sorted set: a contract's leaf indexes, scored by their record's start (Unix microseconds).</summary>
    public RedisKey ContractLeaves(string contractId) => _base + "c:" + contractId;

    /// <summary>Hash: the latest published checkpoint (size, root, note).</summary>
    public RedisKey Checkpoint => _base + "checkpoint";

    /// <summary>String: the last statement's sequence.</summary>
    public RedisKey StatementLast => _base + "st:last";

    /// <summary>Hash: one statement's header fields and envelope.</summary>
    public RedisKey Statement(long sequence) => _base + "st:" + sequence.ToString(CultureInfo.InvariantCulture);

    /// <summary>List: the sequences of a contract's statements for one interval, ascending.</summary>
    public RedisKey Interval(string contractId, long startMicros) =>
        _base + "st:i:" + startMicros.ToString(CultureInfo.InvariantCulture) + ":" + contractId;

    /// <summary>Hash: contract → end of its last stated interval (Unix microseconds).</summary>
    public RedisKey StatedUntil => _base + "st:until";
}
