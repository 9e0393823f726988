using System.Runtime.CompilerServices;
using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Steps the ledger's write operations share, on the writer's prepared commands.</summary>
internal static class CreditWriteSteps
{
    /// <summary>
    /// A reservation with its draws, on the writer's prepared raw statements: every reserve looks its id up first (the
    /// idempotent retry), so this runs once per credited request, and a Microsoft.Data.Sqlite reader there cost a
    /// reader, a statement enumerator and boxed values each time.
    /// </summary>
    public static Reservation? LoadReservation(SqliteWriteContext context, string reservationId)
    {
        CreditLedgerSql.ReservationRow row;
        var select = context.Raw(CreditLedgerSql.SelectReservation);
        select.Bind("@reservation_id", reservationId);
        try
        {
            if (!select.Step())
            {
                return null;
            }

            row = new CreditLedgerSql.ReservationRow(select.GetString(1), select.IsNull(2) ? null : select.GetString(2), select.GetString(3),
                select.GetInt64(4), select.GetInt64(5), select.GetInt64(6), select.GetInt64(7), select.GetInt64(8));
        }
        finally
        {
            select.Reset();
        }

        var draws = new List<LotDraw>();
        var selectDraws = context.Raw(CreditLedgerSql.SelectDraws);
        selectDraws.Bind("@reservation_id", reservationId);
        try
        {
            while (selectDraws.Step())
            {
                draws.Add(new LotDraw(selectDraws.GetString(0), selectDraws.GetInt64(1), selectDraws.GetInt64(2)));
            }
        }
        finally
        {
            selectDraws.Reset();
        }

        return row.ToReservation(reservationId, draws);
    }

    /// <summary>The lot as the writer's transaction has it, with what the book's reservations hold on it pending.</summary>
    public static CreditLot? LoadLot(SqliteWriteContext context, string lotId)
    {
        var lot = CreditLedgerSql.ReadLot(context.Command(CreditLedgerSql.SelectLot, "@lot_id"), lotId);
        var held = lot is null ? 0 : context.Book.HeldOn(lotId);
        return held == 0 ? lot : lot! with { AvailableMicro = lot.AvailableMicro - held, PendingMicro = lot.PendingMicro + held };
    }

    /// <summary>
    /// The account's open lots with something left at <paramref name="now"/>, in redemption order, read from the writer's
    /// statement only as far as the caller enumerates; less what the reservations held in memory draw on each.
    /// </summary>
    public static IEnumerable<EligibleLot> EligibleLots(SqliteWriteContext context, string accountId, DateTimeOffset now)
    {
        var eligible = context.Raw(CreditLedgerSql.SelectEligibleLots);
        eligible.Bind("@account_id", accountId);
        eligible.Bind("@now", SqliteTime.ToUnixMicroseconds(now));
        try
        {
            while (eligible.Step())
            {
                var lotId = eligible.GetString(0);
                var available = eligible.GetInt64(2) - context.Book.HeldOn(lotId);
                if (available > 0)
                {
                    yield return new EligibleLot(lotId, eligible.GetString(1), available);
                }
            }
        }
        finally
        {
            // The statement is shared by every write on the writer: leave it ready for the next one.
            eligible.Reset();
        }
    }

    /// <summary>
    /// Writes a resolution <see cref="Settlement"/> made from a pending reservation: the guarded state change first, then
    /// each draw leaves pending (its posted part redeemed, the rest available again) and any overage is the account's.
    /// False, with nothing changed, when the reservation was no longer pending.
    /// </summary>
    public static bool TryApplyResolution(SqliteWriteContext context, Reservation resolved)
    {
        context.Book.Invalidate(resolved.AccountId);
        var resolve = context.Raw(CreditLedgerSql.ResolveReservation);
        resolve.Bind("@state", ReservationStateNames.ToName(resolved.State));
        resolve.Bind("@posted", resolved.PostedMicro);
        resolve.Bind("@overage", resolved.OverageMicro);
        resolve.Bind("@reservation_id", resolved.ReservationId);
        if (resolve.Execute() == 0)
        {
            return false;
        }

        var settle = context.Raw(CreditLedgerSql.SettleDraw);
        var setDrawPosted = context.Raw(CreditLedgerSql.SetDrawPosted);
        for (var seq = 0; seq < resolved.Draws.Count; seq++)
        {
            var draw = resolved.Draws[seq];
            settle.Bind("@reserved", draw.ReservedMicro);
            settle.Bind("@posted", draw.PostedMicro);
            settle.Bind("@lot_id", draw.LotId);
            Expect(settle.Execute(), $"lot {draw.LotId} does not hold the {draw.ReservedMicro} pending that reservation {resolved.ReservationId} drew");
            if (draw.PostedMicro != 0)
            {
                setDrawPosted.Bind("@posted", draw.PostedMicro);
                setDrawPosted.Bind("@reservation_id", resolved.ReservationId);
                setDrawPosted.Bind("@seq", seq);
                Expect(setDrawPosted.Execute(), $"reservation {resolved.ReservationId} has no draw {seq}");
            }
        }

        AddOverage(context, resolved.AccountId, resolved.OverageMicro);
        return true;
    }

    /// <summary>Writes a resolution of a reservation this write just read as pending: it must still be.</summary>
    public static Reservation ApplyResolution(SqliteWriteContext context, Reservation resolved)
    {
        Expect(TryApplyResolution(context, resolved) ? 1 : 0, $"reservation {resolved.ReservationId} is no longer pending");
        return resolved;
    }

    /// <summary>
    /// Posts an expired reservation late: <paramref name="actual"/> is redeemed from the open lots of its contract as
    /// they stand at <paramref name="now"/> (see <see cref="Settlement.PostLate"/>), the rest is overage.
    /// </summary>
    public static Reservation PostLate(SqliteWriteContext context, Reservation expired, long actual, DateTimeOffset now)
    {
        context.Book.Invalidate(expired.AccountId);
        var picks = Redemption.PickDraws(EligibleLots(context, expired.AccountId, now), expired.ContractId, actual);
        var posted = Settlement.PostLate(expired, picks, actual);

        var redeem = context.Raw(CreditLedgerSql.RedeemFromLot);
        var insertDraw = context.Raw(CreditLedgerSql.InsertPostedDraw);
        for (var seq = expired.Draws.Count; seq < posted.Draws.Count; seq++)
        {
            var draw = posted.Draws[seq];
            redeem.Bind("@amount", draw.PostedMicro);
            redeem.Bind("@lot_id", draw.LotId);
            Expect(redeem.Execute(), $"lot {draw.LotId} no longer holds the {draw.PostedMicro} just read");
            insertDraw.Bind("@reservation_id", expired.ReservationId);
            insertDraw.Bind("@seq", seq);
            insertDraw.Bind("@lot_id", draw.LotId);
            insertDraw.Bind("@amount", draw.PostedMicro);
            insertDraw.Execute();
        }

        var post = context.Raw(CreditLedgerSql.PostExpiredReservation);
        post.Bind("@posted", posted.PostedMicro);
        post.Bind("@overage", posted.OverageMicro);
        post.Bind("@reservation_id", expired.ReservationId);
        Expect(post.Execute(), $"reservation {expired.ReservationId} is no longer expired");
        AddOverage(context, expired.AccountId, posted.OverageMicro);
        return posted;
    }

    /// <summary>
    /// A guarded update that changed nothing means the ledger disagrees with itself; failing the operation rolls it
    /// back to its savepoint rather than writing a half-applied resolution. The message is formatted only then: these
    /// checks run for every draw of every reserve and post.
    /// </summary>
    public static void Expect(int rowsChanged, [InterpolatedStringHandlerArgument(nameof(rowsChanged))] ref Otherwise otherwise)
    {
        if (rowsChanged != 1)
        {
            throw new InvalidOperationException($"Credit ledger inconsistency: {otherwise.ToStringAndClear()}.");
        }
    }

    /// <summary>The message of a failed <see cref="Expect"/>: an interpolated string formatted only when the check fails.</summary>
    [InterpolatedStringHandler]
    public ref struct Otherwise
    {
        private DefaultInterpolatedStringHandler _message;

        public Otherwise(int literalLength, int formattedCount, int rowsChanged, out bool failed)
        {
            failed = rowsChanged != 1;
            _message = failed ? new DefaultInterpolatedStringHandler(literalLength, formattedCount) : default;
        }

        public void AppendLiteral(string value) => _message.AppendLiteral(value);

        public void AppendFormatted<T>(T value) => _message.AppendFormatted(value);

        public string ToStringAndClear() => _message.ToStringAndClear();
    }

    public static void AddOverage(SqliteWriteContext context, string accountId, long overage)
    {
        if (overage > 0)
        {
            var addOverage = context.Raw(CreditLedgerSql.AddOverage);
            addOverage.Bind("@account_id", accountId);
            addOverage.Bind("@overage", overage);
            addOverage.Execute();
        }
    }
}
