using System.Security.Cryptography;
using MeterAgent.Contracts.Deliveries;
using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Applies a delivery exactly once: the deliveries row and its lot commit together, or neither does.</summary>
internal sealed class ApplyDeliveryWrite(DeliveryNotice notice, DateTimeOffset now) : SqliteWriteOperation<DeliveryOutcome>
{
    public override string Description => $"credit delivery {notice.DeliveryId}";

    protected override DeliveryOutcome Run(SqliteWriteContext context)
    {
        var selectDelivery = context.Command(CreditLedgerSql.SelectDelivery, "@delivery_id");
        selectDelivery.Parameters[0].Value = notice.DeliveryId;
        string? digest = null, existingLotId = null;
        using (var r = selectDelivery.ExecuteReader())
        {
            if (r.Read())
            {
                digest = r.GetString(0);
                existingLotId = r.GetString(1);
            }
        }

        if (existingLotId is not null)
        {
            var lot = CreditWriteSteps.LoadLot(context, existingLotId);
            var same = string.Equals(digest, notice.PayloadSha256, StringComparison.OrdinalIgnoreCase);
            return new DeliveryOutcome(same ? DeliveryOutcomeKind.Replayed : DeliveryOutcomeKind.Conflict, lot);
        }

        var accountExists = context.Command(CreditLedgerSql.AccountExists, "@account_id");
        accountExists.Parameters[0].Value = notice.AccountId;
        if (accountExists.ExecuteScalar() is null)
        {
            return new DeliveryOutcome(DeliveryOutcomeKind.UnknownAccount, null);
        }

        context.Book.Invalidate(notice.AccountId);
        var lotId = "lot_" + RandomNumberGenerator.GetHexString(16, lowercase: true);
        var insertLot = context.Command(
            CreditLedgerSql.InsertLot,
            "@lot_id", "@account_id", "@contract_id", "@contract_version", "@delivery_id", "@delivered", "@window_start", "@window_end", "@delivered_at");
        var p = insertLot.Parameters;
        p[0].Value = lotId;
        p[1].Value = notice.AccountId;
        p[2].Value = notice.ContractId;
        p[3].Value = (long)notice.ContractVersion;
        p[4].Value = notice.DeliveryId;
        p[5].Value = notice.QuantityMicro;
        p[6].Value = SqliteTime.ToUnixMicroseconds(notice.WindowStart);
        p[7].Value = SqliteTime.ToUnixMicroseconds(notice.WindowEnd);
        p[8].Value = SqliteTime.ToUnixMicroseconds(now);
        insertLot.ExecuteNonQuery();

        var insertDelivery = context.Command(CreditLedgerSql.InsertDelivery, "@delivery_id", "@payload_sha256", "@lot_id", "@applied_at");
        insertDelivery.Parameters[0].Value = notice.DeliveryId;
        insertDelivery.Parameters[1].Value = notice.PayloadSha256;
        insertDelivery.Parameters[2].Value = lotId;
        insertDelivery.Parameters[3].Value = SqliteTime.ToUnixMicroseconds(now);
        insertDelivery.ExecuteNonQuery();

        return new DeliveryOutcome(DeliveryOutcomeKind.Applied, CreditWriteSteps.LoadLot(context, lotId));
    }
}
