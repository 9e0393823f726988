using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Reserves one request's estimate: reads the open lots, decides, and moves available to pending in one
/// read-modify-write on the writer, so two reservations can never both count on the same credit.
/// </summary>
internal sealed class ReserveWrite(ReserveRequest request) : SqliteWriteOperation<ReserveOutcome>
{
    public override string Description => $"credit reserve {request.ReservationId}";

    protected override ReserveOutcome Run(SqliteWriteContext context)
    {
        // Only granted reservations are stored, so a stored one is the first outcome; a refusal is decided afresh.
        if (CreditWriteSteps.LoadReservation(context, request.ReservationId) is { } existing)
        {
            return new ReserveOutcome(Granted: true, existing, RefusalReason: null);
        }

        var (contractId, estimate, fromLot, draws) = Draw(context);
        long drawn = 0;
        foreach (var draw in draws)
        {
            drawn += draw.Amount;
        }

        // No eligible lot at all is "no credit" even when the estimate is 0: only the policy can let it through.
        var shortfall = estimate - drawn;
        if (shortfall > 0 || !fromLot)
        {
            var refusal = Refusal(context, shortfall);
            if (refusal is not null)
            {
                return new ReserveOutcome(Granted: false, Reservation: null, refusal);
            }
        }

        var insert = context.Raw(CreditLedgerSql.InsertReservation);
        insert.Bind("@reservation_id", request.ReservationId);
        insert.Bind("@account_id", request.AccountId);
        insert.Bind("@contract_id", contractId);
        insert.Bind("@reserved", drawn);
        insert.Bind("@created_at", SqliteTime.ToUnixMicroseconds(request.Now));
        insert.Bind("@expires_at", SqliteTime.ToUnixMicroseconds(request.ExpiresAt));
        insert.Execute();

        var reserveFromLot = context.Raw(CreditLedgerSql.ReserveFromLot);
        var insertDraw = context.Raw(CreditLedgerSql.InsertDraw);
        var lotDraws = new LotDraw[draws.Count];
        for (var seq = 0; seq < draws.Count; seq++)
        {
            var (lotId, amount) = draws[seq];
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
            contractId,
            ReservationState.Pending,
            ReservedMicro: drawn,
            PostedMicro: 0,
            OverageMicro: 0,
            lotDraws,
            SqliteTime.FromUnixMicroseconds(SqliteTime.ToUnixMicroseconds(request.Now)),
            SqliteTime.FromUnixMicroseconds(SqliteTime.ToUnixMicroseconds(request.ExpiresAt)));
        return new ReserveOutcome(Granted: true, reservation, RefusalReason: null);
    }

    /// <summary>
    /// Picks the contract (that of the first eligible lot in redemption order) and the draws on its lots that cover
    /// the estimate as far as they can. With no eligible lot, the contract is the one with the cheapest estimate:
    /// overage must be counted in some contract's units, and the cheapest is the customer's best case.
    /// </summary>
    private (string? ContractId, long Estimate, bool FromLot, List<(string LotId, long Amount)> Draws) Draw(SqliteWriteContext context)
    {
        var eligible = context.Raw(CreditLedgerSql.SelectEligibleLots);
        eligible.Bind("@account_id", request.AccountId);
        eligible.Bind("@now", SqliteTime.ToUnixMicroseconds(request.Now));

        string? contractId = null;
        long estimate = 0, drawn = 0;
        var draws = new List<(string, long)>();
        try
        {
            while (eligible.Step())
            {
                var lotContract = eligible.GetString(1);
                if (contractId is null)
                {
                    if (!request.EstimateMicroByContract.TryGetValue(lotContract, out estimate))
                    {
                        continue;
                    }

                    contractId = lotContract;
                }
                else if (!string.Equals(lotContract, contractId, StringComparison.Ordinal))
                {
                    continue;
                }

                var remaining = estimate - drawn;
                if (remaining <= 0)
                {
                    break;
                }

                var amount = Math.Min(eligible.GetInt64(2), remaining);
                draws.Add((eligible.GetString(0), amount));
                drawn += amount;
            }
        }
        finally
        {
            eligible.Reset();
        }

        var fromLot = contractId is not null;
        if (!fromLot)
        {
            foreach (var (candidate, candidateEstimate) in request.EstimateMicroByContract)
            {
                if (contractId is null || candidateEstimate < estimate
                    || (candidateEstimate == estimate && string.CompareOrdinal(candidate, contractId) < 0))
                {
                    contractId = candidate;
                    estimate = candidateEstimate;
                }
            }
        }

        return (contractId, estimate, fromLot, draws);
    }

    /// <summary>The account's policy on a shortfall: null to serve it, or why not.</summary>
    private string? Refusal(SqliteWriteContext context, long shortfall)
    {
        var policy = CreditLedgerSql.ReadPolicy(context.Command(CreditLedgerSql.SelectPolicy, "@account_id"), request.AccountId);
        switch (policy.Kind)
        {
            case OveragePolicyKind.Allow:
                return null;
            case OveragePolicyKind.AllowUpTo:
                var overage = CreditLedgerSql.ReadOverage(context.Command(CreditLedgerSql.SelectOverage, "@account_id"), request.AccountId);
                // Compared as headroom: overage + shortfall could wrap past long.MaxValue on an absurd estimate.
                return Math.Max(shortfall, 0) <= policy.LimitMicro - overage ? null : RefusalReasons.OverageLimitExceeded;
            default:
                return RefusalReasons.InsufficientQuota;
        }
    }
}
