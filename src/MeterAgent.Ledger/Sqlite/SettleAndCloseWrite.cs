using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Posts (or voids) a request's reservation and closes its usage record in one atomic write: the record's redemption
/// fields and the ledger's postings are committed together or not at all, and a credited request costs the writer one
/// operation at its end instead of two.
/// </summary>
internal sealed class SettleAndCloseWrite(Reservation pending, long? actualMicro, UsageRecord record) : SqliteWriteOperation<Reservation>
{
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
        return final;
    }

    /// <summary>
    /// Resolves from the caller's copy of the reservation: its draws never change once made, so only its state needs
    /// the database's word, and the guarded update gives it. Null when it was no longer pending (voided, expired or
    /// already settled): then nothing was changed and the stored state is the answer.
    /// </summary>
    private Reservation? Resolve(SqliteWriteContext context)
    {
        long posted = 0, overage = 0;
        var postedPerDraw = new long[pending.Draws.Count];
        if (actualMicro is { } actual)
        {
            var remaining = Math.Min(actual, pending.ReservedMicro);
            for (var i = 0; i < postedPerDraw.Length; i++)
            {
                postedPerDraw[i] = Math.Min(pending.Draws[i].ReservedMicro, remaining);
                remaining -= postedPerDraw[i];
                posted += postedPerDraw[i];
            }

            overage = actual - posted;
        }

        var state = actualMicro is null ? ReservationState.Voided : ReservationState.Posted;
        var resolve = context.Raw(CreditLedgerSql.ResolveReservation);
        resolve.Bind("@state", ReservationStateNames.ToName(state));
        resolve.Bind("@posted", posted);
        resolve.Bind("@overage", overage);
        resolve.Bind("@reservation_id", pending.ReservationId);
        if (resolve.Execute() == 0)
        {
            return null;
        }

        var settle = context.Raw(CreditLedgerSql.SettleDraw);
        var setDrawPosted = context.Raw(CreditLedgerSql.SetDrawPosted);
        var draws = new LotDraw[postedPerDraw.Length];
        for (var seq = 0; seq < draws.Length; seq++)
        {
            var draw = pending.Draws[seq];
            settle.Bind("@reserved", draw.ReservedMicro);
            settle.Bind("@posted", postedPerDraw[seq]);
            settle.Bind("@lot_id", draw.LotId);
            CreditWriteSteps.Expect(settle.Execute(), $"lot {draw.LotId} does not hold the {draw.ReservedMicro} pending that reservation {pending.ReservationId} drew");
            if (postedPerDraw[seq] != 0)
            {
                setDrawPosted.Bind("@posted", postedPerDraw[seq]);
                setDrawPosted.Bind("@reservation_id", pending.ReservationId);
                setDrawPosted.Bind("@seq", seq);
                CreditWriteSteps.Expect(setDrawPosted.Execute(), $"reservation {pending.ReservationId} has no draw {seq}");
            }

            draws[seq] = draw with { PostedMicro = postedPerDraw[seq] };
        }

        if (overage > 0)
        {
            var addOverage = context.Raw(CreditLedgerSql.AddOverage);
            addOverage.Bind("@account_id", pending.AccountId);
            addOverage.Bind("@overage", overage);
            addOverage.Execute();
        }

        return pending with { State = state, PostedMicro = posted, OverageMicro = overage, Draws = draws };
    }
}
