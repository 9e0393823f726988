using System.Globalization;
using MeterAgent.Ledger.Statements;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.Log;

/// <summary>
/// The statements chain in Redis, next to the shared log it counts. Appending is the lease holder's (fenced by its
/// token) and continues the chain or is refused whole; reads serve any replica.
/// </summary>
public sealed class RedisStatementStore(IConnectionMultiplexer redis, RedisLogKeys keys, RedisLogLease lease) : IStatementStore
{
    private static readonly RedisValue[] HeaderFields = ["seq", "contract", "start", "end", "amends", "size", "digest", "created"];

    private IDatabase Db => redis.GetDatabase();

    public async Task AppendAsync(IReadOnlyList<(StatementHeader Header, byte[] Envelope)> statements, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(statements);
        if (statements.Count == 0)
        {
            return;
        }

        var token = lease.Token ?? throw new LogFencedException("This replica does not hold the log lease: statements are closed by the holder.");
        var keyList = new List<RedisKey>(3 + (statements.Count * 2)) { keys.Fence, keys.StatementLast, keys.StatedUntil };
        var args = new List<RedisValue>(2 + (statements.Count * 9)) { RedisLogLease.Format(token), statements.Count };
        foreach (var (header, envelope) in statements)
        {
            var start = Micros(header.IntervalStart);
            keyList.Add(keys.Statement(header.Sequence));
            keyList.Add(keys.Interval(header.ContractId, start));
            args.AddRange([header.Sequence, header.ContractId, start, Micros(header.IntervalEnd),
                header.Amends is { } amends ? amends : "", header.TreeSize, header.Digest, Micros(header.CreatedAt), envelope]);
        }

        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(RedisLogScripts.AppendStatements, [.. keyList], [.. args]))!;
        switch ((long)result[0])
        {
            case -1:
                throw new LogFencedException();
            case -2:
                throw new InvalidOperationException(
                    $"Statement {statements[0].Header.Sequence} does not continue the chain (the next sequence is {(long)result[1] + 1}).");
        }
    }

    public async Task<StatementHeader?> LatestAsync(CancellationToken cancellationToken = default)
    {
        var last = await LastAsync();
        return last == 0 ? null : await HeaderAsync(Db, last);
    }

    public async Task<IReadOnlyList<StatementHeader>> ListAsync(long since, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var last = await LastAsync();
        var first = Math.Max(since, 0) + 1;
        return await HeadersAsync(LongRange(first, Math.Min(last, first + limit - 1)));
    }

    public async Task<byte[]?> GetEnvelopeAsync(long sequence, CancellationToken cancellationToken = default) =>
        (byte[]?)await Db.HashGetAsync(keys.Statement(sequence), "envelope");

    public async Task<IReadOnlyList<StatementHeader>> ForIntervalAsync(string contractId, DateTimeOffset intervalStart, CancellationToken cancellationToken = default)
    {
        var sequences = await Db.ListRangeAsync(keys.Interval(contractId, Micros(intervalStart)));
        return await HeadersAsync([.. sequences.Select(s => (long)s)]);
    }

    public async Task<DateTimeOffset?> StatedUntilAsync(string contractId, CancellationToken cancellationToken = default)
    {
        var until = await Db.HashGetAsync(keys.StatedUntil, contractId);
        return until.IsNull ? null : Time((long)until);
    }

    public async Task<IReadOnlyList<string>> LoggedContractsAsync(CancellationToken cancellationToken = default)
    {
        var members = await Db.SetMembersAsync(keys.Contracts);
        return [.. members.Select(m => (string)m!).Order(StringComparer.Ordinal)];
    }

    public async Task<DateTimeOffset?> FirstStartAsync(string contractId, CancellationToken cancellationToken = default)
    {
        var first = await Db.SortedSetRangeByRankWithScoresAsync(keys.ContractLeaves(contractId), 0, 0);
        return first.Length == 0 ? null : Time((long)first[0].Score);
    }

    public async Task<IReadOnlyList<LoggedLeaf>> LeavesAsync(
        string contractId, DateTimeOffset from, DateTimeOffset to, long belowIndex, CancellationToken cancellationToken = default)
    {
        var db = Db;
        var members = await db.SortedSetRangeByScoreAsync(keys.ContractLeaves(contractId), Micros(from), Micros(to), Exclude.Stop);
        var indexes = members.Select(m => (long)m).Where(i => i < belowIndex).Order().ToList();
        var batch = db.CreateBatch();
        var reads = indexes.Select(i => batch.ListGetByIndexAsync(keys.Entries, i)).ToList();
        batch.Execute();
        var leaves = new List<LoggedLeaf>(indexes.Count);
        for (var i = 0; i < indexes.Count; i++)
        {
            leaves.Add(new LoggedLeaf(indexes[i], (byte[])(await reads[i])!));
        }

        return leaves;
    }

    private async Task<long> LastAsync() => (long?)await Db.StringGetAsync(keys.StatementLast) ?? 0;

    private async Task<List<StatementHeader>> HeadersAsync(IReadOnlyList<long> sequences)
    {
        var batch = Db.CreateBatch();
        var reads = sequences.Select(s => HeaderAsync(batch, s)).ToList();
        batch.Execute();
        var headers = new List<StatementHeader>(reads.Count);
        foreach (var read in reads)
        {
            headers.Add(await read ?? throw new InvalidOperationException("A statement listed in Redis has no header."));
        }

        return headers;
    }

    private async Task<StatementHeader?> HeaderAsync(IDatabaseAsync db, long sequence)
    {
        var v = await db.HashGetAsync(keys.Statement(sequence), HeaderFields);
        return v[0].IsNull
            ? null
            : new StatementHeader
            {
                Sequence = (long)v[0],
                ContractId = (string)v[1]!,
                IntervalStart = Time((long)v[2]),
                IntervalEnd = Time((long)v[3]),
                Amends = ((string?)v[4]) is { Length: > 0 } amends ? long.Parse(amends, NumberStyles.None, CultureInfo.InvariantCulture) : null,
                TreeSize = (long)v[5],
                Digest = (byte[])v[6]!,
                CreatedAt = Time((long)v[7]),
            };
    }

    private static List<long> LongRange(long first, long last)
    {
        var range = new List<long>();
        for (var s = first; s <= last; s++)
        {
            range.Add(s);
        }

        return range;
    }

    /// <summary>Unix microseconds, as the SQLite store and the entries keep time.</summary>
    private static long Micros(DateTimeOffset time) => (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    private static DateTimeOffset Time(long micros) => DateTimeOffset.UnixEpoch.AddTicks(micros * TimeSpan.TicksPerMicrosecond);
}
