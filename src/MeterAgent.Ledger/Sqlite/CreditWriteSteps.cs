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
    /// Redeems <paramref name="actual"/> from the open lots of the expired reservation's contract, in redemption order
    /// and straight from available (its own draws were released when it expired); what they cannot cover is overage.
    /// The account's policy no longer decides: the request was served, so its shortfall is owed. Lots count as open at
    /// <paramref name="now"/>, when the request ended.
    /// </summary>
    public static Reservation PostLate(SqliteWriteContext context, Reservation expired, long actual, DateTimeOffset now)
    {
        var eligible = context.Raw(CreditLedgerSql.SelectEligibleLots);
        eligible.Bind("@account_id", expired.AccountId);
        eligible.Bind("@now", SqliteTime.ToUnixMicroseconds(now));
        var picks = new List<(string LotId, long Amount)>();
        long drawn = 0;
        try
        {
            while (drawn < actual && eligible.Step())
            {
                if (string.Equals(eligible.GetString(1), expired.ContractId, StringComparison.Ordinal))
                {
                    var amount = Math.Min(eligible.GetInt64(2), actual - drawn);
                    picks.Add((eligible.GetString(0), amount));
                    drawn += amount;
                }
            }
        }
        finally
        {
            eligible.Reset();
        }

        var redeem = context.Raw(CreditLedgerSql.RedeemFromLot);
        var insertDraw = context.Raw(CreditLedgerSql.InsertPostedDraw);
        var draws = new List<LotDraw>(expired.Draws);
        foreach (var (lotId, amount) in picks)
        {
            redeem.Bind("@amount", amount);
            redeem.Bind("@lot_id", lotId);
            CreditWriteSteps.Expect(redeem.Execute(), $"lot {lotId} no longer holds the {amount} just read");
            insertDraw.Bind("@reservation_id", expired.ReservationId);
            insertDraw.Bind("@seq", draws.Count);
            insertDraw.Bind("@lot_id", lotId);
            insertDraw.Bind("@amount", amount);
            insertDraw.Execute();
            draws.Add(new LotDraw(lotId, amount, amount));
        }

        var overage = actual - drawn;
        var post = context.Raw(CreditLedgerSql.PostExpiredReservation);
        post.Bind("@posted", drawn);
        post.Bind("@overage", overage);
        post.Bind("@reservation_id", expired.ReservationId);
        CreditWriteSteps.Expect(post.Execute(), $"reservation {expired.ReservationId} is no longer expired");
        if (overage > 0)
        {
            var addOverage = context.Raw(CreditLedgerSql.AddOverage);
            addOverage.Bind("@account_id", expired.AccountId);
            addOverage.Bind("@overage", overage);
            addOverage.Execute();
        }

        return expired with
        {
            State = ReservationState.Posted,
            ReservedMicro = expired.ReservedMicro + drawn,
            PostedMicro = drawn,
            OverageMicro = overage,
            Draws = draws,
        };
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
