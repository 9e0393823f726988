namespace MeterAgent.Ledger.Sqlite;

/// <summary>Moves the deadline of the given pending reservations to <paramref name="expiresAt"/> in one write.</summary>
internal sealed class RenewWrite(IReadOnlyCollection<string> reservationIds, DateTimeOffset expiresAt) : SqliteWriteOperation<int>
{
    public override string Description => $"credit renew {reservationIds.Count} reservations";

    protected override int Run(SqliteWriteContext context)
    {
        var renew = context.Raw(CreditLedgerSql.RenewReservation);
        var renewed = 0;
        foreach (var reservationId in reservationIds)
        {
            renew.Bind("@expires_at", SqliteTime.ToUnixMicroseconds(expiresAt));
            renew.Bind("@reservation_id", reservationId);
            renewed += renew.Execute();
        }

        return renewed;
    }
}
