using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Posts (or voids) a request's reservation and closes its usage record in one atomic write: the record's redemption
/// fields and the ledger's postings are committed together or not at all, and a credited request costs the writer one
/// operation at its end instead of two.
/// </summary>
internal sealed class SettleAndCloseWrite(string reservationId, long? actualMicro, UsageRecord record) : SqliteWriteOperation<Reservation>
{
    public override string Description => $"credit settle and usage close {reservationId}";

    protected override Reservation Run(SqliteWriteContext context)
    {
        var final = actualMicro is { } actual
            ? PostWrite.Post(context, reservationId, actual)
            : VoidWrite.Void(context, reservationId);

        record.ContractId = final.ContractId;
        record.RedeemedMicro = final.PostedMicro;
        record.OverageMicro = final.State switch
        {
            ReservationState.Posted => final.OverageMicro,

            // The request outlived its reservation: nothing was redeemed, all of it is unpaid.
            ReservationState.Expired when actualMicro is not null => record.UnitsMicro,
            _ => 0,
        };

        var lots = new string[final.Draws.Count];
        for (var i = 0; i < lots.Length; i++)
        {
            lots[i] = final.Draws[i].LotId;
        }

        record.LotIds = lots;

        var close = context.Raw(UsageRecordSql.Close);
        UsageRecordSql.Bind(close, record, record.Status);
        close.Execute();
        return final;
    }
}
