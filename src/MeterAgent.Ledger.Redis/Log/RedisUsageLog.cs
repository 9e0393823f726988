using System.Globalization;
using MeterAgent.Attestation.Entries;
using MeterAgent.Ledger.Sqlite;
using MeterAgent.Ledger.Usage;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.Log;

/// <summary>
/// The usage log in distributed mode. Appending goes to this replica's local log (its outbox, in the same write path
/// as embedded mode) and wakes the shipper; reading is from the shared log in Redis, which holds every replica's
/// records in the order the lease holder appended them, each once. So the tree, tiles and proofs any replica serves are
/// over the same entries.
/// </summary>
public sealed class RedisUsageLog(SqliteUsageLog local, RecordShipper shipper, IConnectionMultiplexer redis, RedisLogKeys keys) : IUsageLog
{
    public async Task AppendAsync(IReadOnlyList<UsageRecord> closed, CancellationToken cancellationToken = default)
    {
        await local.AppendAsync(closed, cancellationToken);
        shipper.Wake();
    }

    public async Task<IReadOnlyList<byte[]>> ReadAsync(long from, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        cancellationToken.ThrowIfCancellationRequested();
        var values = await redis.GetDatabase().ListRangeAsync(keys.Entries, from, from + limit - 1);
        return [.. values.Select(v => (byte[])v!)];
    }

    public async Task<LoggedEntry?> FindAsync(string usageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(usageId);
        cancellationToken.ThrowIfCancellationRequested();
        var db = redis.GetDatabase();
        var index = await db.HashGetAsync(keys.Ids, usageId);
        if (index.IsNull)
        {
            return null;
        }

        var leaf = long.Parse((string)index!, NumberStyles.None, CultureInfo.InvariantCulture);
        var entry = (byte[]?)await db.ListGetByIndexAsync(keys.Entries, leaf);
        return entry is null ? null : new LoggedEntry(leaf, entry, UsageEntryEncoding.Decode(entry).AccountId);
    }
}
