using MeterAgent.Credits;
using MeterAgent.Ledger.Credits;
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
/// than lost or applied twice. Observers see only outcomes that are durable, each exactly once per process. When the
/// post is deferred (<see cref="SettlementDeferredException"/>: Redis unreachable) the request completes at once and the
/// observers run when the outbox closes the record, in this process; if it stops first they do not run for it (the log
/// entry is written by the outbox's close itself).
/// </remarks>
internal sealed partial class SettlementPipeline(
    IUsageStore usage, CreditRedemption credits, IEnumerable<ISettlementObserver> observers, Proxy.SettlementTracker tracker,
    ILogger<SettlementPipeline> logger)
{
    private readonly ISettlementObserver[] _observers = [.. observers];

    /// <param name="outcome">How the request ended.</param>
    /// <param name="openRecord">Its write-ahead record, if one was opened: filled with the close rather than a new one.</param>
    /// <param name="settling">
    /// The settlement's place in the tracker the host's stop waits on (<see cref="Proxy.SettlementTracker.Begin"/>), ended
    /// here when the settlement ends, failed or not, so its caller needs no state machine of its own to end it; null
    /// when the caller tracks nothing.
    /// </param>
    public async Task<SettledRequest> SettleAsync(
        RequestOutcome outcome, UsageRecord? openRecord = null, Proxy.SettlementTracker.Settling? settling = null)
    {
        Exception? failure = null;
        try
        {
            var record = outcome.ToRecord(openRecord);
            RedemptionSummary? redemption = null;
            if (outcome.Reservation is { } reservation)
            {
                try
                {
                    await credits.SettleAndCloseAsync(record, reservation, outcome.Forwarded, outcome.Chargeable);
                }
                catch (SettlementDeferredException deferred)
                {
                    // The shared ledger is unreachable: the intent is durable in the outbox, which posts and closes the record
                    // when it is back. The observers see the outcome then, once, as the outbox closed it; the request does
                    // not wait for it.
                    LogDeferred(outcome.UsageId);
                    _ = NotifyWhenClosedAsync(outcome, deferred.Closed);
                    return new SettledRequest(outcome, null, record);
                }

                redemption = RedemptionSummary.FromRecord(record);
            }
            else
            {
                await usage.CloseAsync(record, CancellationToken.None);
            }

            var settled = new SettledRequest(outcome, redemption, record);
            await NotifyAsync(settled);
            return settled;
        }
        catch (Exception ex)
        {
            failure = ex;
            throw;
        }
        finally
        {
            if (settling is not null)
            {
                tracker.End(outcome.UsageId, settling, failure);
            }
        }
    }

    private async Task NotifyWhenClosedAsync(RequestOutcome outcome, Task<UsageRecord> closed)
    {
        UsageRecord record;
        try
        {
            record = await closed;
        }
        catch (Exception ex)
        {
            // Never closed in this process (it stopped first): the next start's outbox closes it and writes its log entry.
            LogDeferredLost(outcome.UsageId, ex);
            return;
        }

        await NotifyAsync(new SettledRequest(outcome, RedemptionSummary.FromRecord(record), record));
    }

    private async Task NotifyAsync(SettledRequest settled)
    {
        var outcome = settled.Outcome;
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
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage {UsageId}: the shared ledger is unreachable; its settle waits in the outbox")]
    private partial void LogDeferred(string usageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Usage {UsageId}: stopped before the outbox closed it; the next start's outbox does")]
    private partial void LogDeferredLost(string usageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Usage {UsageId}: settlement observer {Observer} failed")]
    private partial void LogObserverFailed(string usageId, string observer, Exception exception);
}
