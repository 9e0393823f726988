namespace MeterAgent.Ledger.Statements;

/// <summary>
/// What the store says of one signed statement besides its envelope: enough to list statements, find an interval's,
/// and continue the chain. The envelope itself is read apart (<see cref="IStatementStore.GetEnvelopeAsync"/>): it lists
/// every leaf counted, so it can run to megabytes.
/// </summary>
public sealed record StatementHeader
{
    /// <summary>From 1, one chain for the whole log, in the order statements were closed.</summary>
    public required long Sequence { get; init; }

    public required string ContractId { get; init; }

    public required DateTimeOffset IntervalStart { get; init; }

    public required DateTimeOffset IntervalEnd { get; init; }

    /// <summary>The statement of the same contract and interval this one corrects; null for the interval's first.</summary>
    public long? Amends { get; init; }

    /// <summary>The log size every counted leaf is below.</summary>
    public required long TreeSize { get; init; }

    /// <summary>SHA-256 of the envelope bytes: the next statement's <c>previous_digest</c>.</summary>
    public required byte[] Digest { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
