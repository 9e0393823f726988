using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Loads an account's lots into the <see cref="ReservationBook"/> as the writer's transaction sees them, and decides the
/// reserve that needed them (if any) while nothing else can change them. The first reserve of an account, and the first
/// after a write changed its lots otherwise than by a settlement, waits for it; the others do not touch the writer.
/// </summary>
internal sealed class LoadLotsWrite(ReservationBook book, string accountId, ReserveRequest? request) : SqliteWriteOperation<ReserveOutcome?>
{
    public override string Description => $"credit lots of {accountId}";

    protected override ReserveOutcome? Run(SqliteWriteContext context)
    {
        var select = context.Command(CreditLedgerSql.SelectLotsByAccount, "@account_id");
        select.Parameters[0].Value = accountId;
        var lots = new List<CreditLot>();
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                lots.Add(CreditLedgerSql.ReadLot(reader));
            }
        }

        book.Load(accountId, lots);
        return request is null ? null : book.TryReserve(request);
    }
}
