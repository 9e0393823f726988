namespace MeterAgent.Ledger.Counters;

/// <summary>
/// Live usage counters per account, contract and model, read by the balance API. The embedded store sums its own
/// records; the distributed store keeps counters in Redis that every replica adds its closed records to in batches.
/// </summary>
public interface IUsageCounters
{
    /// <summary>
    /// Whether closed records must be added with <see cref="AddAsync"/> (a store that keeps counters apart from the
    /// records); false when the store derives them from the records themselves.
    /// </summary>
    bool NeedsFlushing { get; }

    /// <summary>
    /// Adds one batch of totals. Idempotent per <paramref name="batchId"/>: the same batch again (a retry after a
    /// timeout or a failover) adds nothing.
    /// </summary>
    Task AddAsync(string batchId, IReadOnlyDictionary<UsageCounterKey, UsageTotals> totals, CancellationToken cancellationToken = default);

    /// <summary>The account's totals per (contract, model), ordered by contract then model.</summary>
    Task<IReadOnlyList<(string ContractId, string Model, UsageTotals Totals)>> ReadAsync(string accountId, CancellationToken cancellationToken = default);
}
