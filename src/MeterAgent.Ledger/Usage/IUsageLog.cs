namespace MeterAgent.Ledger.Usage;

/// <summary>
/// The usage log's entries as the store holds them: one per closed record, numbered from 0 in the order they closed,
/// written in the same write as the close. The Merkle tree over them is built by whoever reads them.
/// </summary>
public interface IUsageLog
{
    /// <summary>Up to <paramref name="limit"/> entries from index <paramref name="from"/> on, in index order.</summary>
    Task<IReadOnlyList<byte[]>> ReadAsync(long from, int limit, CancellationToken cancellationToken = default);
}
