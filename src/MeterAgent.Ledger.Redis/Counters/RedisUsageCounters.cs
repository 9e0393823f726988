using System.Globalization;
using MeterAgent.Ledger.Counters;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.Counters;

/// <summary>
/// Live counters in Redis: one hash per account (<c>{a:ID}:usage</c>), a field per (counter, contract, model). Every
/// replica adds its batches with one script per account, all of a batch pipelined; the script first marks the batch
/// done for that account (<c>{a:ID}:usage:batch:BATCH</c>, SET NX with a day's expiry), so a batch sent twice (a retry
/// after a timeout, a failover) is added once. Both keys carry the account's hash tag: the script runs on a Redis
/// Cluster.
/// </summary>
public sealed class RedisUsageCounters(IConnectionMultiplexer redis, string keyPrefix) : IUsageCounters
{
    /// <summary>How long a batch id is remembered: far longer than any retry of it.</summary>
    internal static readonly TimeSpan BatchMemory = TimeSpan.FromDays(1);

    private const string AddScript = """
        if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 0 end
        for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
        return 1
        """;

    public bool NeedsFlushing => true;

    public async Task AddAsync(string batchId, IReadOnlyDictionary<UsageCounterKey, UsageTotals> totals, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        ArgumentNullException.ThrowIfNull(totals);
        var db = redis.GetDatabase();
        var calls = new List<Task>();
        foreach (var account in totals.GroupBy(pair => pair.Key.AccountId, StringComparer.Ordinal))
        {
            var args = new List<RedisValue> { (long)BatchMemory.TotalSeconds };
            foreach (var (key, value) in account)
            {
                for (var i = 0; i < UsageTotals.FieldNames.Count; i++)
                {
                    if (value[i] != 0)
                    {
                        args.Add(Field(UsageTotals.FieldNames[i], key.ContractId, key.Model));
                        args.Add(value[i]);
                    }
                }
            }

            RedisKey[] keys = [Hash(account.Key), keyPrefix + RedisKeys.AccountTag(account.Key) + ":usage:batch:" + batchId];
            calls.Add(db.ScriptEvaluateAsync(AddScript, keys, [.. args]));
        }

        // Pipelined: every account's script is on the wire before the first answer is awaited.
        await Task.WhenAll(calls).WaitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<(string ContractId, string Model, UsageTotals Totals)>> ReadAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        var entries = await redis.GetDatabase().HashGetAllAsync(Hash(accountId)).WaitAsync(cancellationToken);
        var rows = new SortedDictionary<(string, string), UsageTotals>();
        foreach (var entry in entries)
        {
            if (Parse(entry.Name.ToString()) is not var (name, contract, model) || UsageTotalsIndex(name) is not { } index)
            {
                continue; // a counter this version does not know
            }

            if (!rows.TryGetValue((contract, model), out var row))
            {
                rows[(contract, model)] = row = new UsageTotals();
            }

            row.Add(index, (long)entry.Value);
        }

        return [.. rows.Select(pair => (pair.Key.Item1, pair.Key.Item2, pair.Value))];
    }

    private RedisKey Hash(string accountId) => keyPrefix + RedisKeys.AccountTag(accountId) + ":usage";

    /// <summary>
    /// <c>name|length of contract|contract model</c>: the contract's length makes the split exact whatever the model
    /// name holds (it comes from the client or the upstream).
    /// </summary>
    internal static string Field(string name, string contract, string model) =>
        string.Create(CultureInfo.InvariantCulture, $"{name}|{contract.Length}|{contract}{model}");

    internal static (string Name, string Contract, string Model)? Parse(string field)
    {
        var first = field.IndexOf('|', StringComparison.Ordinal);
        var second = first < 0 ? -1 : field.IndexOf('|', first + 1);
        if (second < 0 || !int.TryParse(field.AsSpan(first + 1, second - first - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || length > field.Length - second - 1)
        {
            return null;
        }

        return (field[..first], field.Substring(second + 1, length), field[(second + 1 + length)..]);
    }

    private static int? UsageTotalsIndex(string name)
    {
        for (var i = 0; i < UsageTotals.FieldNames.Count; i++)
        {
            if (UsageTotals.FieldNames[i] == name)
            {
                return i;
            }
        }

        return null;
    }
}
