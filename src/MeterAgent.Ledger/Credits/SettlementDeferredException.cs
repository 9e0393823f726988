using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Credits;

/// <summary>
/// Thrown by <see cref="ICreditLedger.SettleAndCloseAsync"/> of a backend with an outbox when the post could not be
/// made now (its shared store is unreachable): the settle intent, with the closed record, is already durable locally
/// and will be posted and closed by the outbox's replay. Nothing is lost; the caller must not settle again.
/// </summary>
public sealed class SettlementDeferredException : Exception
{
    public SettlementDeferredException()
        : this("The settlement was deferred to the outbox.", Task.FromCanceled<UsageRecord>(new CancellationToken(canceled: true)))
    {
    }

    public SettlementDeferredException(string message)
        : this(message, Task.FromCanceled<UsageRecord>(new CancellationToken(canceled: true)))
    {
    }

    public SettlementDeferredException(string message, Exception innerException)
        : base(message, innerException)
    {
        Closed = Task.FromCanceled<UsageRecord>(new CancellationToken(canceled: true));
    }

    /// <param name="message">why</param>
    /// <param name="closed">completes with the record as the replay closed it (redemption fields filled), in this process</param>
    /// <param name="innerException">the outage that deferred it, if one was seen</param>
    public SettlementDeferredException(string message, Task<UsageRecord> closed, Exception? innerException = null)
        : base(message, innerException)
    {
        ArgumentNullException.ThrowIfNull(closed);
        Closed = closed;
    }

    /// <summary>The record once the outbox has posted and closed it; never completes if this process stops first.</summary>
    public Task<UsageRecord> Closed { get; }
}
