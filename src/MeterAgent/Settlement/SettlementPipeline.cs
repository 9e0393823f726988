using MeterAgent.Credits;
using MeterAgent.Ledger.Outcomes;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Settlement;

/// <summary>
/// The one call every metered request ends with: its outcome is made durable, then handed to each
/// <see cref="ISettlementObserver"/> in registration order.
/// </summary>
/// <remarks>
/// The durable write comes first and is one write: a credited request's post (or void) and its record's close commit
/// together (<see cref="Ledger.Credits.ICreditLedger.SettleAndCloseAsync"/>), so the ledger and the record can never
/// disagree. On the embedded store that is one SQLite transaction. A backend without cross-key transactions keeps the
/// same promise with an outbox: it journals the closed record locally first, then applies the post and the close
/// with idempotent, retried operations keyed by the usage id, so a crash between them is finished on restart rather
/// than lost or applied twice. Observers see only outcomes that are durable, each exactly once per process.
/// </remarks>
internal sealed partial class SettlementPipeline(
    IUsageStore usage, CreditRedemption credits, IEnumerable<ISettlementObserver> observers, ILogger<SettlementPipeline> logger)
{
    private readonly ISettlementObserver[] _observers = [.. observers];

    public async Task<SettledRequest> SettleAsync(RequestOutcome outcome)
    {
        var record = outcome.ToRecord();
        RedemptionSummary? redemption = null;
        if (outcome.Reservation is { } reservation)
        {
            await credits.SettleAndCloseAsync(record, reservation, outcome.Forwarded, outcome.Chargeable);
            redemption = RedemptionSummary.FromRecord(record);
        }
        else
        {
            await usage.CloseAsync(record, CancellationToken.None);
        }

        var settled = new SettledRequest(outcome, redemption, record);
        foreach (var observer in _observers)
        {
            try
            {
                await observer.OnSettledAsync(settled, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // The outcome is already durable; one observer's failure must not keep it from the others.
                LogObserverFailed(outcome.UsageId, observer.GetType().Name, ex);
            }
        }

        return settled;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Usage {UsageId}: settlement observer {Observer} failed")]
    private partial void LogObserverFailed(string usageId, string observer, Exception exception);
}
