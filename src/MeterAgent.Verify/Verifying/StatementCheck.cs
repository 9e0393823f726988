using System.Globalization;
using System.Security.Cryptography;
using MeterAgent.Attestation.Notes;
using MeterAgent.Attestation.Statements;

namespace MeterAgent.Verify.Verifying;

/// <summary>A listed statement as fetched and opened (or why it could not be): checked only once the tree is.</summary>
internal sealed record LoadedStatement(StatementListing Listing, byte[]? Envelope, UsageStatement? Statement, string? Failure);

/// <summary>What the statements add up to, for the summary line.</summary>
internal sealed record StatementSummary(int Count, int Contracts, int CountedLeaves, long? TreeSize);

/// <summary>
/// The statements against the verified tree, by the rules the statement closer guarantees (docs/attestation.md): each
/// signed by a log key, numbered from 1 without gaps, chained by digest, amending only the latest earlier statement of
/// its contract and interval, at a tree size whose root the log really had, counting only leaves of its contract and
/// interval and none counted before, with sums equal to its entries' (<see cref="StatementTotals.Sum"/>); and every
/// leaf of a stated interval below the latest statement's tree size counted by one.
/// </summary>
internal static class StatementCheck
{
    private static readonly (string Name, Func<AccountTotals, long> Value)[] Fields =
    [
        ("records", a => a.Records),
        ("native_input_tokens", a => a.NativeInputTokens),
        ("native_cached_input_tokens", a => a.NativeCachedInputTokens),
        ("native_cache_write_tokens", a => a.NativeCacheWriteTokens),
        ("native_output_tokens", a => a.NativeOutputTokens),
        ("native_reasoning_tokens", a => a.NativeReasoningTokens),
        ("reference_input_tokens", a => a.ReferenceInputTokens),
        ("reference_output_tokens", a => a.ReferenceOutputTokens),
        ("units_micro", a => a.UnitsMicro),
        ("redeemed_micro", a => a.RedeemedMicro),
        ("overage_micro", a => a.OverageMicro),
        ("estimated_records", a => a.EstimatedRecords),
        ("non_text_records", a => a.NonTextRecords),
    ];

    public static async Task<IReadOnlyList<LoadedStatement>> LoadAsync(
        ILogSource source, IReadOnlyList<NoteVerifier> keys, Progress progress, CancellationToken cancellationToken)
    {
        var listing = await source.ListStatementsAsync(cancellationToken);
        var loaded = new List<LoadedStatement>(listing.Count);
        foreach (var row in listing)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"log/statements/{row.Sequence}");
            var envelope = await source.GetAsync(path, cancellationToken);
            if (envelope is null)
            {
                loaded.Add(new LoadedStatement(row, null, null, $"{path} is missing"));
                continue;
            }

            string? failure = null;
            UsageStatement? statement = null;
            foreach (var key in keys)
            {
                var (opened, why) = StatementEnvelope.Open(envelope, key);
                statement = opened;
                failure ??= why;
                if (opened is not null)
                {
                    break;
                }
            }

            loaded.Add(new LoadedStatement(row, envelope, statement, statement is null ? $"not signed by any of the log keys ({failure})" : null));
            progress.Report("statements", loaded.Count, listing.Count);
        }

        return loaded;
    }

    public static StatementSummary Check(IReadOnlyList<LoadedStatement> statements, VerifiedCheckpoint checkpoint, VerifiedTree tree)
    {
        var countedBy = new Dictionary<long, long>();
        var bySequence = new Dictionary<long, UsageStatement>();
        var latestOfInterval = new Dictionary<(string, DateTimeOffset, DateTimeOffset), long>();
        byte[]? previousDigest = null;
        long? previousTreeSize = null;

        for (var i = 0; i < statements.Count; i++)
        {
            var (row, envelope, statement, failure) = statements[i];
            var sequence = row.Sequence;
            if (sequence != i + 1)
            {
                throw new VerificationFault(string.Create(CultureInfo.InvariantCulture,
                    $"statement {sequence} is listed where statement {i + 1} belongs: sequences are contiguous from 1"));
            }

            if (statement is null || envelope is null)
            {
                throw new VerificationFault(string.Create(CultureInfo.InvariantCulture, $"statement {sequence}: {failure}"));
            }

            var fault = Prefix(sequence);
            var digest = SHA256.HashData(envelope);
            CheckListing(fault, row, statement, digest);
            CheckChain(fault, sequence, statement, previousDigest);
            CheckTree(fault, statement, checkpoint, tree, previousTreeSize);
            var interval = (statement.ContractId, statement.IntervalStart, statement.IntervalEnd);
            CheckAmends(fault, sequence, statement, bySequence, latestOfInterval.TryGetValue(interval, out var latest) ? latest : null);
            CheckLeaves(fault, sequence, statement, tree, countedBy);
            CheckSums(fault, statement, tree);

            bySequence[sequence] = statement;
            latestOfInterval[interval] = sequence;
            previousDigest = digest;
            previousTreeSize = statement.TreeSize;
        }

        CheckComplete(bySequence.Values, tree, countedBy, previousTreeSize ?? 0);
        return new StatementSummary(statements.Count, bySequence.Values.Select(s => s.ContractId).Distinct(StringComparer.Ordinal).Count(), countedBy.Count, previousTreeSize);
    }

    private static Func<string, VerificationFault> Prefix(long sequence) =>
        message => new VerificationFault(string.Create(CultureInfo.InvariantCulture, $"statement {sequence}: {message}"));

    /// <summary>The list is an index; where it says something, it must say what the signed statement says.</summary>
    private static void CheckListing(Func<string, VerificationFault> fault, StatementListing row, UsageStatement statement, byte[] digest)
    {
        if (statement.Sequence != row.Sequence)
        {
            throw fault(string.Create(CultureInfo.InvariantCulture, $"the signed statement says sequence {statement.Sequence}"));
        }

        if (row.Listed && row.Digest is { } listed && !string.Equals(listed, Convert.ToHexStringLower(digest), StringComparison.OrdinalIgnoreCase))
        {
            throw fault($"the list's digest {listed} is not the SHA-256 of its envelope ({Convert.ToHexStringLower(digest)})");
        }

        if (!row.Listed)
        {
            return;
        }

        if (row.Digest is null)
        {
            throw fault("the list gives no digest");
        }

        if (row.ContractId != statement.ContractId || row.IntervalStart != statement.IntervalStart || row.IntervalEnd != statement.IntervalEnd
            || row.TreeSize != statement.TreeSize || row.Amends != statement.Amends)
        {
            throw fault("the list's contract, interval, tree size or amends differ from the signed statement's");
        }
    }

    private static void CheckChain(Func<string, VerificationFault> fault, long sequence, UsageStatement statement, byte[]? previousDigest)
    {
        var stated = statement.PreviousDigest is { } p ? Convert.ToHexStringLower(p) : "null";
        if (previousDigest is null)
        {
            if (statement.PreviousDigest is not null)
            {
                throw fault($"the first statement has previous_sha256 {stated}, not null");
            }

            return;
        }

        if (statement.PreviousDigest is null || !statement.PreviousDigest.AsSpan().SequenceEqual(previousDigest))
        {
            throw fault(string.Create(CultureInfo.InvariantCulture,
                $"the chain is broken: previous_sha256 is {stated}, not the digest of statement {sequence - 1} ({Convert.ToHexStringLower(previousDigest)})"));
        }
    }

    private static void CheckTree(Func<string, VerificationFault> fault, UsageStatement statement, VerifiedCheckpoint checkpoint, VerifiedTree tree, long? previousTreeSize)
    {
        if (statement.LogOrigin != checkpoint.Checkpoint.Origin)
        {
            throw fault($"it is of log {statement.LogOrigin}, not {checkpoint.Checkpoint.Origin}");
        }

        if (statement.TreeSize < 0 || statement.TreeSize > tree.Size)
        {
            throw fault(string.Create(CultureInfo.InvariantCulture, $"its tree size {statement.TreeSize} is beyond the checkpoint's {tree.Size}"));
        }

        if (statement.TreeSize < previousTreeSize)
        {
            throw fault(string.Create(CultureInfo.InvariantCulture, $"its tree size {statement.TreeSize} is below the previous statement's {previousTreeSize}"));
        }

        var root = tree.Root(statement.TreeSize);
        if (!root.AsSpan().SequenceEqual(statement.RootHash))
        {
            throw fault(string.Create(CultureInfo.InvariantCulture,
                $"its root {Convert.ToBase64String(statement.RootHash)} is not the log's root at size {statement.TreeSize} ({Convert.ToBase64String(root)})"));
        }

        if (statement.IntervalEnd <= statement.IntervalStart)
        {
            throw fault($"its interval [{statement.IntervalStart:O}, {statement.IntervalEnd:O}) is empty");
        }
    }

    private static void CheckAmends(
        Func<string, VerificationFault> fault, long sequence, UsageStatement statement, Dictionary<long, UsageStatement> earlier, long? latest)
    {
        if (statement.Amends is not { } amends)
        {
            if (latest is { } first)
            {
                throw fault(string.Create(CultureInfo.InvariantCulture,
                    $"its contract and interval already have statement {first}, and it amends none"));
            }

            return;
        }

        if (amends >= sequence || !earlier.TryGetValue(amends, out var amended))
        {
            throw fault(string.Create(CultureInfo.InvariantCulture, $"it amends {amends}, which is not an earlier statement"));
        }

        if (amended.ContractId != statement.ContractId || amended.IntervalStart != statement.IntervalStart || amended.IntervalEnd != statement.IntervalEnd)
        {
            throw fault(string.Create(CultureInfo.InvariantCulture, $"it amends statement {amends}, which is of another contract or interval"));
        }

        if (amends != latest)
        {
            throw fault(string.Create(CultureInfo.InvariantCulture,
                $"it amends statement {amends}, but the latest statement of its contract and interval is {latest}"));
        }
    }

    private static void CheckLeaves(Func<string, VerificationFault> fault, long sequence, UsageStatement statement, VerifiedTree tree, Dictionary<long, long> countedBy)
    {
        var start = Micros(statement.IntervalStart);
        var end = Micros(statement.IntervalEnd);
        long previous = -1;
        foreach (var leaf in statement.Leaves)
        {
            if (leaf <= previous)
            {
                throw fault(string.Create(CultureInfo.InvariantCulture, $"its leaves are not in ascending order ({leaf} after {previous})"));
            }

            if (leaf < 0 || leaf >= statement.TreeSize)
            {
                throw fault(string.Create(CultureInfo.InvariantCulture, $"leaf {leaf} is not below its tree size {statement.TreeSize}"));
            }

            var contract = tree.Contracts[leaf];
            if (contract != statement.ContractId)
            {
                throw fault(string.Create(CultureInfo.InvariantCulture,
                    $"leaf {leaf} is {(contract is null ? "a record without a contract" : $"of contract {contract}")}, not {statement.ContractId}"));
            }

            if (tree.StartedAt[leaf] < start || tree.StartedAt[leaf] >= end)
            {
                throw fault(string.Create(CultureInfo.InvariantCulture,
                    $"leaf {leaf} started at {Time(tree.StartedAt[leaf])}, outside its interval [{statement.IntervalStart:O}, {statement.IntervalEnd:O})"));
            }

            if (!countedBy.TryAdd(leaf, sequence))
            {
                throw fault(string.Create(CultureInfo.InvariantCulture, $"leaf {leaf} is already counted by statement {countedBy[leaf]}"));
            }

            previous = leaf;
        }
    }

    private static void CheckSums(Func<string, VerificationFault> fault, UsageStatement statement, VerifiedTree tree)
    {
        var recomputed = StatementTotals.Sum(statement.Leaves.Select(leaf => tree.Counted[leaf])).ToDictionary(a => a.AccountId, StringComparer.Ordinal);
        var stated = new Dictionary<string, AccountTotals>(StringComparer.Ordinal);
        foreach (var account in statement.Accounts)
        {
            if (!stated.TryAdd(account.AccountId, account))
            {
                throw fault($"account {account.AccountId} has two rows of totals");
            }
        }

        foreach (var (id, totals) in stated.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!recomputed.TryGetValue(id, out var expected))
            {
                throw fault($"account {id} has totals but no entries among its leaves");
            }

            foreach (var (name, value) in Fields)
            {
                if (value(totals) != value(expected))
                {
                    throw fault(string.Create(CultureInfo.InvariantCulture,
                        $"sums for account {id} do not match its entries ({name} {value(totals)} != {value(expected)})"));
                }
            }
        }

        if (recomputed.Keys.FirstOrDefault(id => !stated.ContainsKey(id)) is { } missing)
        {
            throw fault($"account {missing} has entries among its leaves but no totals");
        }
    }

    /// <summary>
    /// Every leaf below the latest statement's tree size whose contract and interval have a statement is counted by
    /// one: a record left out of a statement (or a statement that skipped an interval's late records) is a fault.
    /// </summary>
    private static void CheckComplete(IEnumerable<UsageStatement> statements, VerifiedTree tree, Dictionary<long, long> countedBy, long treeSize)
    {
        var intervals = statements
            .GroupBy(s => s.ContractId, StringComparer.Ordinal)
            .ToDictionary(
                g => g.Key,
                g => g.GroupBy(s => (Start: Micros(s.IntervalStart), End: Micros(s.IntervalEnd))).Select(i => (i.Key.Start, i.Key.End, Sequence: i.Min(s => s.Sequence))).OrderBy(i => i.Start).ToArray(),
                StringComparer.Ordinal);
        for (long leaf = 0; leaf < treeSize; leaf++)
        {
            if (countedBy.ContainsKey(leaf) || tree.Contracts[leaf] is not { } contract || !intervals.TryGetValue(contract, out var stated))
            {
                continue;
            }

            var at = tree.StartedAt[leaf];
            var found = LastStartingBy(stated, at);
            if (found >= 0 && at < stated[found].End)
            {
                throw new VerificationFault(string.Create(CultureInfo.InvariantCulture,
                    $"leaf {leaf} (contract {contract}, started at {Time(at)}) is in the interval of statement {stated[found].Sequence} but counted by no statement below tree size {treeSize}"));
            }
        }
    }

    /// <summary>The index of the last interval (sorted by start) that starts at or before <paramref name="at"/>; -1 if none.</summary>
    private static int LastStartingBy((long Start, long End, long Sequence)[] intervals, long at)
    {
        int lo = 0, hi = intervals.Length;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (intervals[mid].Start <= at)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo - 1;
    }

    private static long Micros(DateTimeOffset at) => (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static string Time(long micros) =>
        DateTimeOffset.UnixEpoch.AddTicks(micros * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
