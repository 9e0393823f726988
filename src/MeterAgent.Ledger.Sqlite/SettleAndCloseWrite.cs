using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Posts (or voids) a request's reservation and closes its usage record in one atomic write: the record's redemption
/// fields and the ledger's postings are committed together or not at all, and a credited request costs the writer one
/// operation at its end instead of two.
/// </summary>
internal sealed class SettleAndCloseWrite(Reservation pending, long? actualMicro, UsageRecord record)
    : SqliteWriteOperation<Reservation>(resumesWithBatch: true)
{
    /// <inheritdoc/>
    public override bool CanWait => true;

    public override string Description => $"credit settle and usage close {pending.ReservationId}";

    protected override Reservation Run(SqliteWriteContext context)
    {
        var final = Resolve(context)
            ?? CreditWriteSteps.LoadReservation(context, pending.ReservationId)
            ?? throw new KeyNotFoundException($"No reservation '{pending.ReservationId}'.");

        if (final.State == ReservationState.Expired && actualMicro is > 0)
        {
            // The request outlived its reservation (the keep-alive stopped, or the sweep ran first): what was served is
            // still charged, never zero. It redeems whatever its contract's lots hold now; the rest is overage.
            final = CreditWriteSteps.PostLate(context, final, actualMicro.Value, record.EndedAt ?? final.ExpiresAt);
        }

        Close(context, final, record);
        return final;
    }

    /// <summary>
    /// Fills the record's redemption fields from the reservation as it ended (the lots it redeemed from, or for one that
    /// released everything, the lots it had drawn on) and closes the record.
    /// </summary>
    internal static void Close(SqliteWriteContext context, Reservation final, UsageRecord record)
    {
        record.ContractId = final.ContractId;
        record.RedeemedMicro = final.PostedMicro;
        record.OverageMicro = final.State == ReservationState.Posted ? final.OverageMicro : 0;

        var lots = new List<string>(final.Draws.Count);
        foreach (var draw in final.Draws)
        {
            if (draw.PostedMicro > 0 || final.State != ReservationState.Posted)
            {
                lots.Add(draw.LotId);
            }
        }

        record.LotIds = lots;

        var close = context.Raw(UsageRecordSql.Close);
        UsageRecordSql.Bind(close, record, record.Status);
        close.Execute();
        context.ClosedUsageIds.Add(record.Id);
    }

    /// <summary>
    /// Resolves from the caller's copy of the reservation: its draws never change once made, so only its state needs
    /// the database's word, and the guarded update gives it. Null when it was no longer pending (voided, expired or
    /// already settled): then nothing was changed and the stored state is the answer.
    /// </summary>
    private Reservation? Resolve(SqliteWriteContext context)
    {
        // The copy's own state may be stale (a replayed reserve returns the stored reservation as it stood then); the
        // guarded update is what decides, so resolve it as pending and let the store refuse.
        var resolved = Settlement.Resolve(pending with { State = ReservationState.Pending }, actualMicro);
        return CreditWriteSteps.TryApplyResolution(context, resolved) ? resolved : null;
    }
}
