using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Reserves one request's estimate: reads the open lots, decides, and moves available to pending in one
/// read-modify-write on the writer, so two reservations can never both count on the same credit.
/// </summary>
internal sealed class ReserveWrite(ReserveRequest request) : SqliteWriteOperation<ReserveOutcome>
{
    public override string Description => $"credit reserve {request.ReservationId}";

    /// <inheritdoc/>
    public override bool AnswersBeforeCommit => true;

    protected override ReserveOutcome Run(SqliteWriteContext context)
    {
        // Only granted reservations are stored, so a stored one is the first outcome; a refusal is decided afresh.
        if (CreditWriteSteps.LoadReservation(context, request.ReservationId) is { } existing)
        {
            return new ReserveOutcome(Granted: true, existing, RefusalReason: null);
        }

        var plan = Redemption.PlanReservation(
            CreditWriteSteps.EligibleLots(context, request.AccountId, request.Now), request.EstimateMicroByContract);
        if (plan.NeedsPolicy)
        {
            var policy = CreditLedgerSql.ReadPolicy(context.Command(CreditLedgerSql.SelectPolicy, "@account_id"), request.AccountId);
            var refusal = OverageRule.Refusal(
                policy,
                plan.ShortfallMicro,
                () => CreditLedgerSql.ReadAmount(context.Command(CreditLedgerSql.SelectOverage, "@account_id"), request.AccountId)
                    + CreditLedgerSql.ReadAmount(context.Command(CreditLedgerSql.SelectOverageHeld, "@account_id"), request.AccountId));
            if (refusal is not null)
            {
                return new ReserveOutcome(Granted: false, Reservation: null, refusal);
            }
        }

        var insert = context.Raw(CreditLedgerSql.InsertReservation);
        insert.Bind("@reservation_id", request.ReservationId);
        insert.Bind("@account_id", request.AccountId);
        insert.Bind("@contract_id", plan.ContractId);
        insert.Bind("@reserved", plan.DrawnMicro);
        insert.Bind("@created_at", SqliteTime.ToUnixMicroseconds(request.Now));
        insert.Bind("@expires_at", SqliteTime.ToUnixMicroseconds(request.ExpiresAt));
        insert.Bind("@overage_held", Math.Max(plan.ShortfallMicro, 0));
        insert.Execute();

        var reserveFromLot = context.Raw(CreditLedgerSql.ReserveFromLot);
        var insertDraw = context.Raw(CreditLedgerSql.InsertDraw);
        var lotDraws = new LotDraw[plan.Picks.Count];
        for (var seq = 0; seq < lotDraws.Length; seq++)
        {
            var (lotId, amount) = plan.Picks[seq];
            reserveFromLot.Bind("@amount", amount);
            reserveFromLot.Bind("@lot_id", lotId);
            CreditWriteSteps.Expect(reserveFromLot.Execute(), $"lot {lotId} no longer holds the {amount} just read");

            insertDraw.Bind("@reservation_id", request.ReservationId);
            insertDraw.Bind("@seq", seq);
            insertDraw.Bind("@lot_id", lotId);
            insertDraw.Bind("@reserved", amount);
            insertDraw.Execute();
            lotDraws[seq] = new LotDraw(lotId, amount, PostedMicro: 0);
        }

        var reservation = new Reservation(
            request.ReservationId,
            request.AccountId,
            plan.ContractId,
            ReservationState.Pending,
            ReservedMicro: plan.DrawnMicro,
            PostedMicro: 0,
            OverageMicro: 0,
            lotDraws,
            SqliteTime.FromUnixMicroseconds(SqliteTime.ToUnixMicroseconds(request.Now)),
            SqliteTime.FromUnixMicroseconds(SqliteTime.ToUnixMicroseconds(request.ExpiresAt)));
        return new ReserveOutcome(Granted: true, reservation, RefusalReason: null);
    }
}
