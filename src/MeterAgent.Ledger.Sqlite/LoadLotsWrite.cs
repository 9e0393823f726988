using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Loads an account's lots into the <see cref="ReservationBook"/> as the writer's transaction sees them, and decides the
/// reserve that needed them (if any) while nothing else can change them. Writes nothing, so it may answer before the
/// commit.
/// </summary>
internal sealed class LoadLotsWrite(ReservationBook book, string accountId, ReserveRequest? request) : SqliteWriteOperation<ReserveOutcome?>
{
    public override string Description => $"credit lots of {accountId}";

    /// <inheritdoc/>
    public override bool AnswersBeforeCommit => true;

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
