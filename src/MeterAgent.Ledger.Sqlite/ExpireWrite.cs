using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Releases every pending reservation past its deadline (left by a crashed or stalled request).</summary>
/// <remarks>
/// Those held in memory (<paramref name="held"/>, already released in the <see cref="ReservationBook"/>) are written
/// as expired; then the database's own pending ones, left by a version that wrote reservations at the reserve.
/// </remarks>
internal sealed class ExpireWrite(ReservationBook book, List<ReservationBook.Entry> held, DateTimeOffset now) : SqliteWriteOperation<int>
{
    public override string Description => $"credit expire at {now:O}";

    protected override int Run(SqliteWriteContext context)
    {
        foreach (var entry in held)
        {
            ResolveHeldWrite.Write(context, entry);
            book.Ran(entry, context);
        }

        var select = context.Command(CreditLedgerSql.SelectExpired, "@now");
        select.Parameters[0].Value = SqliteTime.ToUnixMicroseconds(now);
        var expired = new List<string>();
        using (var r = select.ExecuteReader())
        {
            while (r.Read())
            {
                expired.Add(r.GetString(0));
            }
        }

        foreach (var reservationId in expired)
        {
            var reservation = CreditWriteSteps.LoadReservation(context, reservationId)!;
            CreditWriteSteps.ApplyResolution(context, Settlement.Release(reservation, ReservationState.Expired));
        }

        return held.Count + expired.Count;
    }

    protected override void OnFailed()
    {
        foreach (var entry in held)
        {
            book.Failed(entry);
        }
    }
}
