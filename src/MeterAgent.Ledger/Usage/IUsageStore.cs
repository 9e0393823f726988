namespace MeterAgent.Ledger.Usage;

/// <summary>
/// Durable usage records, written ahead. Writes from all requests are group-committed: many records share one
/// transaction, and each call completes only once its record is durable.
/// </summary>
public interface IUsageStore
{
    /// <summary>
    /// Writes the record ahead (status Open) before the request goes upstream. Completes when durable. The record is
    /// read before this returns and not kept: the caller may fill the same instance with the close
    /// (<see cref="Outcomes.RequestOutcome.ToRecord(UsageRecord?)"/>) while the write is still completing.
    /// </summary>
    ValueTask OpenAsync(UsageRecord record, CancellationToken cancellationToken = default);

    /// <summary>Writes the record's final state (inserting it if it was never opened). Completes when durable.</summary>
    ValueTask CloseAsync(UsageRecord record, CancellationToken cancellationToken = default);

    Task<UsageRecord?> GetAsync(string id, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<UsageRecord>> QueryAsync(UsageQuery query, CancellationToken cancellationToken = default);

    /// <summary>Closes every record still Open (left by a crash) as Interrupted; returns how many. Run at start-up.</summary>
    Task<int> RecoverOpenAsync(CancellationToken cancellationToken = default);
}
