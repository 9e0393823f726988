using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Releases every pending reservation past its deadline (left by a crashed or stalled request).</summary>
internal sealed class ExpireWrite(DateTimeOffset now) : SqliteWriteOperation<int>
{
    public override string Description => $"credit expire at {now:O}";

    protected override int Run(SqliteWriteContext context)
    {
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

        return expired.Count;
    }
}
