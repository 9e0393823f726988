namespace MeterAgent.Ledger.Hosting;

/// <summary>
/// What readiness asks of a store backend beyond answering reads: that it can commit a write now. A store that still
/// reads but cannot write (its writer stopped, a lock held elsewhere, a file that refuses writes) would accept requests
/// it cannot record, so the agent is not ready while this fails.
/// </summary>
public interface IStoreWriteProbe
{
    /// <summary>
    /// Commits a write through the same path usage records take, changing nothing the agent reads; throws when the store
    /// cannot write. Cancelling stops the wait, not the write.
    /// </summary>
    Task ProbeWriteAsync(CancellationToken cancellationToken);
}
