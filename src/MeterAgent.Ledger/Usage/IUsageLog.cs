namespace MeterAgent.Ledger.Usage;

/// <summary>
/// The usage log's entries as the store holds them: one per closed record, numbered from 0 in the order they were
/// appended, each record once. Entries are appended in batches after their records close; a crash between the two is
/// made good at the next start, when recovery appends every closed record the log lacks. The Merkle tree over them is
/// built by whoever reads them.
/// </summary>
public interface IUsageLog
{
    /// <summary>Appends the entries of these closed records (a record already in the log keeps its place).</summary>
    Task AppendAsync(IReadOnlyList<UsageRecord> closed, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> entries from index <paramref name="from"/> on, in index order.</summary>
    Task<IReadOnlyList<byte[]>> ReadAsync(long from, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// The entry of the record <paramref name="usageId"/> (its leaf index, bytes and account); null while the record is
    /// open or not yet appended, and for an id the log never held.
    /// </summary>
    Task<LoggedEntry?> FindAsync(string usageId, CancellationToken cancellationToken = default);
}
