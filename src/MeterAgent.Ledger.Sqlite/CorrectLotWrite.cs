using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>A provider's correction of a lot, applied with its audit row or not at all.</summary>
internal sealed class CorrectLotWrite(string lotId, long deltaMicro, string reason, DateTimeOffset now) : SqliteWriteOperation<CreditLot?>
{
    public override string Description => $"credit correction of {lotId}";

    protected override CreditLot? Run(SqliteWriteContext context)
    {
        var lot = CreditWriteSteps.LoadLot(context, lotId) ?? throw new KeyNotFoundException($"No credit lot '{lotId}'.");
        context.Book.Invalidate(lot.AccountId);

        var correct = context.Command(CreditLedgerSql.CorrectLot, "@delta", "@lot_id", "@held");
        correct.Parameters[0].Value = deltaMicro;
        correct.Parameters[1].Value = lotId;
        correct.Parameters[2].Value = context.Book.HeldOn(lotId);
        if (correct.ExecuteNonQuery() == 0)
        {
            // Credits already reserved or redeemed cannot be taken back by a correction.
            return null;
        }

        var audit = context.Command(CreditLedgerSql.InsertCorrection, "@lot_id", "@delta", "@reason", "@at");
        audit.Parameters[0].Value = lotId;
        audit.Parameters[1].Value = deltaMicro;
        audit.Parameters[2].Value = reason;
        audit.Parameters[3].Value = SqliteTime.ToUnixMicroseconds(now);
        audit.ExecuteNonQuery();
        return CreditWriteSteps.LoadLot(context, lotId);
    }
}
