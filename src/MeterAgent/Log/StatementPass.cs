using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using MeterAgent.Attestation.Entries;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Statements;
using MeterAgent.Contracts.Specs;
using MeterAgent.Ledger.Statements;
using MeterAgent.Ledger.Usage;
using MeterAgent.Observability;
using Microsoft.Extensions.Options;

namespace MeterAgent.Log;

/// <summary>
/// One closing pass over the log at a given tree size N (docs/attestation.md, "Statements"):
/// <list type="number">
/// <item>every leaf in [the last pass's size, N) whose interval already has a statement goes into one correcting
/// statement per contract and interval, amending that interval's latest statement;</item>
/// <item>every interval whose end plus the grace period has passed, for each contract from its first logged record on
/// (empty intervals too), gets its statement, counting the contract's leaves of that interval below N.</item>
/// </list>
/// All the pass's statements name tree size N, continue one chain (sequence, previous digest), and are stored in one
/// write. So every leaf below the last statement's size whose interval is stated is counted by exactly one statement.
/// </summary>
internal sealed partial class StatementPass(
    IStatementStore store, IUsageLog log, ContractCatalog catalog, TimeProvider clock, IOptions<LogOptions> options, ILogger<StatementPass> logger,
    MeterAgentMetrics? metrics = null)
{
    private readonly Counter<long>? _closed = StatementsCounter(metrics);

    private const int ReadBatch = 10_000;

    // Leaves below this were checked for corrections by an earlier pass of this process; at start, the last
    // statement's size (every leaf below it whose interval was stated then is counted).
    private long? _checkedTo;
    private readonly HashSet<string> _unknownContracts = new(StringComparer.Ordinal);

    /// <summary>
    /// Closes what is due at the tree size <paramref name="head"/> gives; returns the statements written. The head is
    /// asked for a fresh checkpoint (true) when an interval is due, so its statement counts every record closed by then;
    /// otherwise the current one will do (only corrections can be due).
    /// </summary>
    public async Task<IReadOnlyList<StatementHeader>> RunAsync(
        Func<bool, CancellationToken, Task<(long Size, byte[] Root)>> head, NoteSigner signer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(signer);
        var latest = await store.LatestAsync(cancellationToken);
        var due = await DueIntervalsAsync(cancellationToken);
        var (treeSize, rootHash) = await head(due.Count > 0, cancellationToken);

        // Before the first statement no interval is stated, so there is nothing to correct. Never below the last
        // statement's size: another replica may have closed statements while this one did not hold the log.
        var checkedTo = Math.Max(_checkedTo ?? latest?.TreeSize ?? treeSize, latest?.TreeSize ?? 0);
        if (treeSize < checkedTo || treeSize < (latest?.TreeSize ?? 0))
        {
            return [];
        }

        var drafts = await CorrectionsAsync(checkedTo, treeSize, cancellationToken);
        foreach (var (contractId, start, end) in due)
        {
            var leaves = await store.LeavesAsync(contractId, start, end, treeSize, cancellationToken);
            drafts.Add(new Draft(contractId, start, end, null, [.. leaves.Select(l => (l.Index, UsageEntryEncoding.Decode(l.Entry)))]));
        }

        var written = new List<(StatementHeader Header, byte[] Envelope)>(drafts.Count);
        var sequence = latest?.Sequence ?? 0;
        var previous = latest?.Digest;
        var now = clock.GetUtcNow();
        foreach (var draft in drafts)
        {
            var statement = new UsageStatement
            {
                Sequence = ++sequence,
                ContractId = draft.ContractId,
                IntervalStart = draft.Start,
                IntervalEnd = draft.End,
                LogOrigin = signer.Name,
                TreeSize = treeSize,
                RootHash = rootHash,
                Leaves = [.. draft.Leaves.Select(l => l.Index)],
                Accounts = StatementTotals.Sum(draft.Leaves.Select(l => l.Entry)),
                PreviousDigest = previous,
                Amends = draft.Amends,
            };
            var envelope = StatementEnvelope.Sign(statement, signer);
            previous = SHA256.HashData(envelope);
            written.Add((new StatementHeader
            {
                Sequence = statement.Sequence,
                ContractId = draft.ContractId,
                IntervalStart = draft.Start,
                IntervalEnd = draft.End,
                Amends = draft.Amends,
                TreeSize = treeSize,
                Digest = previous,
                CreatedAt = now,
            }, envelope));
        }

        await store.AppendAsync(written, cancellationToken);
        _checkedTo = treeSize;
        foreach (var (header, _) in written)
        {
            _closed?.Add(1, new KeyValuePair<string, object?>("kind", header.Amends is null ? "interval" : "correction"));
            LogStatementClosed(header.Sequence, header.ContractId, header.IntervalStart, header.Amends, treeSize);
        }

        return [.. written.Select(w => w.Header)];
    }

    /// <summary>The contract's settlement interval containing <paramref name="time"/> (boundaries from midnight UTC).</summary>
    public static DateTimeOffset IntervalStart(DateTimeOffset time, TimeSpan interval) =>
        new(time.UtcTicks - (time.UtcTicks % interval.Ticks), TimeSpan.Zero);

    /// <summary>The start of the settlement interval an entry belongs to: the one holding its record's start.</summary>
    public static DateTimeOffset IntervalStart(UsageEntry entry, TimeSpan interval) =>
        IntervalStart(DateTimeOffset.UnixEpoch.AddTicks(entry.StartedAtMicros * TimeSpan.TicksPerMicrosecond), interval);

    private async Task<List<Draft>> CorrectionsAsync(long from, long to, CancellationToken cancellationToken)
    {
        var late = new SortedDictionary<(string ContractId, DateTimeOffset Start), Draft>();
        var stated = new Dictionary<(string, DateTimeOffset), long?>();
        for (var index = from; index < to;)
        {
            var batch = await log.ReadAsync(index, (int)Math.Min(ReadBatch, to - index), cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var bytes in batch)
            {
                var leaf = index++;
                var entry = UsageEntryEncoding.Decode(bytes);
                if (entry.ContractId is not { } contractId || IntervalOf(contractId) is not { } interval)
                {
                    continue;
                }

                var start = IntervalStart(entry, interval);
                var key = (contractId, start);
                if (!stated.TryGetValue(key, out var amends))
                {
                    var headers = await store.ForIntervalAsync(contractId, start, cancellationToken);
                    stated[key] = amends = headers.Count == 0 ? null : headers[^1].Sequence;
                }

                if (amends is null)
                {
                    continue; // its interval is still open: counted when it closes
                }

                if (!late.TryGetValue(key, out var draft))
                {
                    late[key] = draft = new Draft(contractId, start, start + interval, amends, []);
                }

                draft.Leaves.Add((leaf, entry));
            }
        }

        return [.. late.Values];
    }

    private async Task<List<(string ContractId, DateTimeOffset Start, DateTimeOffset End)>> DueIntervalsAsync(CancellationToken cancellationToken)
    {
        var grace = options.Value.StatementGrace;
        var now = clock.GetUtcNow();
        var due = new List<(string, DateTimeOffset, DateTimeOffset)>();
        foreach (var contractId in await store.LoggedContractsAsync(cancellationToken))
        {
            if (IntervalOf(contractId) is not { } interval)
            {
                continue;
            }

            var next = await store.StatedUntilAsync(contractId, cancellationToken);
            if (next is null && await store.FirstStartAsync(contractId, cancellationToken) is { } first)
            {
                next = IntervalStart(first, interval);
            }

            for (var start = next; start is { } s && s + interval + grace <= now; start = s + interval)
            {
                due.Add((contractId, s, s + interval));
            }
        }

        return due;
    }

    private TimeSpan? IntervalOf(string contractId)
    {
        if (catalog.Find(contractId) is { } spec)
        {
            return spec.SettlementInterval;
        }

        if (_unknownContracts.Add(contractId))
        {
            LogUnknownContract(contractId);
        }

        return null;
    }

    private sealed record Draft(string ContractId, DateTimeOffset Start, DateTimeOffset End, long? Amends, List<(long Index, UsageEntry Entry)> Leaves);

    /// <summary>Statements closed, by kind; both kinds start at 0 so their series exist before the first.</summary>
    private static Counter<long>? StatementsCounter(MeterAgentMetrics? metrics)
    {
        var counter = metrics?.Meter.CreateCounter<long>("meteragent.log.statements", "{statement}", "Statements closed, by kind.");
        counter?.Add(0, new KeyValuePair<string, object?>("kind", "interval"));
        counter?.Add(0, new KeyValuePair<string, object?>("kind", "correction"));
        return counter;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Statement {Sequence} closed: contract {ContractId}, interval from {IntervalStart:O}, amends {Amends}, tree size {TreeSize}")]
    private partial void LogStatementClosed(long sequence, string contractId, DateTimeOffset intervalStart, long? amends, long treeSize);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The log holds records of contract {ContractId}, which no loaded contract spec defines: they are in no statement until its spec is loaded again")]
    private partial void LogUnknownContract(string contractId);
}
