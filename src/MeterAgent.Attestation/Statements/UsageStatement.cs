namespace MeterAgent.Attestation.Statements;

/// <summary>
/// What one contract delivered in one settlement interval, per account, and where in the log those records are: the
/// predicate of an in-toto Statement (<see cref="StatementFormat"/>). A correcting statement names the one it amends;
/// none is ever edited.
/// </summary>
public sealed record UsageStatement
{
    /// <summary>Numbered from 1 per log: the order statements were closed in.</summary>
    public required long Sequence { get; init; }

    public required string ContractId { get; init; }

    public required DateTimeOffset IntervalStart { get; init; }

    public required DateTimeOffset IntervalEnd { get; init; }

    /// <summary>The log's origin (its checkpoint's first line).</summary>
    public required string LogOrigin { get; init; }

    /// <summary>The tree size and root of the checkpoint every counted entry is in.</summary>
    public required long TreeSize { get; init; }

    public required byte[] RootHash { get; init; }

    /// <summary>The leaf indices counted, in ascending order: a verifier re-reads exactly these entries.</summary>
    public required IReadOnlyList<long> Leaves { get; init; }

    /// <summary>Per account, ordered by account id.</summary>
    public required IReadOnlyList<AccountTotals> Accounts { get; init; }

    /// <summary>SHA-256 of the previous statement's envelope bytes; null for the first.</summary>
    public byte[]? PreviousDigest { get; init; }

    /// <summary>The sequence of the statement this one corrects (records that closed after it); null for an interval's first.</summary>
    public long? Amends { get; init; }
}
