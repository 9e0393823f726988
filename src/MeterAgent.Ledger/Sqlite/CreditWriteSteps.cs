using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Steps the ledger's write operations share, on the writer's prepared commands.</summary>
internal static class CreditWriteSteps
{
    public static Reservation? LoadReservation(SqliteWriteContext context, string reservationId) =>
        CreditLedgerSql.ReadReservation(
            context.Command(CreditLedgerSql.SelectReservation, "@reservation_id"),
            context.Command(CreditLedgerSql.SelectDraws, "@reservation_id"),
            reservationId);

    public static CreditLot? LoadLot(SqliteWriteContext context, string lotId) =>
        CreditLedgerSql.ReadLot(context.Command(CreditLedgerSql.SelectLot, "@lot_id"), lotId);

    /// <summary>
    /// Resolves a pending reservation: each draw posts the given amount (0 to release it all), the rest of what it
    /// reserved returns to its lot. Returns the reservation as resolved.
    /// </summary>
    public static Reservation Resolve(
        SqliteWriteContext context, Reservation pending, ReservationState state, IReadOnlyList<long> postedPerDraw, long overage)
    {
        var settle = context.Command(CreditLedgerSql.SettleDraw, "@reserved", "@posted", "@lot_id");
        var setDrawPosted = context.Command(CreditLedgerSql.SetDrawPosted, "@posted", "@reservation_id", "@seq");
        var draws = new LotDraw[pending.Draws.Count];
        long posted = 0;
        for (var seq = 0; seq < draws.Length; seq++)
        {
            var draw = pending.Draws[seq];
            var drawPosted = postedPerDraw.Count == 0 ? 0 : postedPerDraw[seq];
            settle.Parameters[0].Value = draw.ReservedMicro;
            settle.Parameters[1].Value = drawPosted;
            settle.Parameters[2].Value = draw.LotId;
            Expect(settle.ExecuteNonQuery(), $"lot {draw.LotId} does not hold the {draw.ReservedMicro} pending that reservation {pending.ReservationId} drew");

            if (drawPosted != 0)
            {
                setDrawPosted.Parameters[0].Value = drawPosted;
                setDrawPosted.Parameters[1].Value = pending.ReservationId;
                setDrawPosted.Parameters[2].Value = (long)seq;
                Expect(setDrawPosted.ExecuteNonQuery(), $"reservation {pending.ReservationId} has no draw {seq}");
            }

            draws[seq] = draw with { PostedMicro = drawPosted };
            posted += drawPosted;
        }

        var resolve = context.Command(CreditLedgerSql.ResolveReservation, "@state", "@posted", "@overage", "@reservation_id");
        resolve.Parameters[0].Value = ReservationStateNames.ToName(state);
        resolve.Parameters[1].Value = posted;
        resolve.Parameters[2].Value = overage;
        resolve.Parameters[3].Value = pending.ReservationId;
        Expect(resolve.ExecuteNonQuery(), $"reservation {pending.ReservationId} is no longer pending");

        if (overage > 0)
        {
            var addOverage = context.Command(CreditLedgerSql.AddOverage, "@account_id", "@overage");
            addOverage.Parameters[0].Value = pending.AccountId;
            addOverage.Parameters[1].Value = overage;
            addOverage.ExecuteNonQuery();
        }

        return pending with { State = state, PostedMicro = posted, OverageMicro = overage, Draws = draws };
    }

    /// <summary>
    /// A guarded update that changed nothing means the ledger disagrees with itself; failing the operation rolls it
    /// back to its savepoint rather than writing a half-applied resolution.
    /// </summary>
    public static void Expect(int rowsChanged, string otherwise)
    {
        if (rowsChanged != 1)
        {
            throw new InvalidOperationException($"Credit ledger inconsistency: {otherwise}.");
        }
    }
}
