namespace MeterAgent.Ledger.Statements;

/// <summary>
/// The signed interval statements and the log reads that close them. Statements are append-only: each continues the
/// chain of the one before it, and none is edited; records that close late go into a later correcting statement.
/// </summary>
public interface IStatementStore
{
    /// <summary>
    /// Appends statements in one write. Their sequences must continue the stored chain with no gap; a sequence already
    /// stored fails the whole write (two closers raced), so nothing is written twice.
    /// </summary>
    Task AppendAsync(IReadOnlyList<(StatementHeader Header, byte[] Envelope)> statements, CancellationToken cancellationToken = default);

    /// <summary>The last statement closed, or null before the first.</summary>
    Task<StatementHeader?> LatestAsync(CancellationToken cancellationToken = default);

    /// <summary>Statements with a sequence above <paramref name="since"/>, ascending, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<StatementHeader>> ListAsync(long since, int limit, CancellationToken cancellationToken = default);

    /// <summary>The envelope bytes exactly as signed, or null for an unknown sequence.</summary>
    Task<byte[]?> GetEnvelopeAsync(long sequence, CancellationToken cancellationToken = default);

    /// <summary>A contract's statements for the interval starting at <paramref name="intervalStart"/>, ascending.</summary>
    Task<IReadOnlyList<StatementHeader>> ForIntervalAsync(string contractId, DateTimeOffset intervalStart, CancellationToken cancellationToken = default);

    /// <summary>The end of the contract's last stated interval, or null when none is stated yet.</summary>
    Task<DateTimeOffset?> StatedUntilAsync(string contractId, CancellationToken cancellationToken = default);

    /// <summary>Every contract some logged entry was redeemed under.</summary>
    Task<IReadOnlyList<string>> LoggedContractsAsync(CancellationToken cancellationToken = default);

    /// <summary>The earliest start time of a logged entry of the contract, or null when it has none.</summary>
    Task<DateTimeOffset?> FirstStartAsync(string contractId, CancellationToken cancellationToken = default);

    /// <summary>
    /// The contract's log leaves whose record started in [<paramref name="from"/>, <paramref name="to"/>), with an index
    /// below <paramref name="belowIndex"/>, in index order.
    /// </summary>
    Task<IReadOnlyList<LoggedLeaf>> LeavesAsync(string contractId, DateTimeOffset from, DateTimeOffset to, long belowIndex, CancellationToken cancellationToken = default);
}
