using MeterAgent.Ledger.Credits;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Writes reservations the <see cref="ReservationBook"/> held, as they were resolved (posted, voided or expired): each
/// row with its draws, what they posted redeemed from their lots, any overage the account's; with a request's record
/// closed in the same write when one is given. The only write a credited request makes besides its close.
/// </summary>
internal sealed class ResolveHeldWrite : SqliteWriteOperation<Reservation>
{
    private readonly ReservationBook _book;
    private readonly ReservationBook.Entry _entry;
    private readonly UsageRecord? _record;

    /// <param name="book">the book that holds the reservation</param>
    /// <param name="entry">the reservation, resolved in the book and not yet written</param>
    /// <param name="record">the request's record to close with it (a settlement), or null (a post or void alone)</param>
    public ResolveHeldWrite(ReservationBook book, ReservationBook.Entry entry, UsageRecord? record)
        : base(resumesWithBatch: record is not null)
    {
        _book = book;
        _entry = entry;
        _record = record;
    }

    /// <inheritdoc/>
    public override bool CanWait => _record is not null;

    public override string Description => _record is null
        ? $"credit resolve {_entry.Granted.ReservationId}"
        : $"credit settle and usage close {_entry.Granted.ReservationId}";

    protected override Reservation Run(SqliteWriteContext context)
    {
        var final = Write(context, _entry);
        if (_record is not null)
        {
            SettleAndCloseWrite.Close(context, final, _record);
        }

        _book.Ran(_entry, context);
        return final;
    }

    protected override void OnFailed() => _book.Failed(_entry);

    /// <summary>The entry's reservation as resolved: its row, its draws, the lots' redemptions and the overage.</summary>
    internal static Reservation Write(SqliteWriteContext context, ReservationBook.Entry entry)
    {
        var final = entry.Resolved!;
        var insert = context.Raw(CreditLedgerSql.InsertResolvedReservation);
        insert.Bind("@reservation_id", final.ReservationId);
        insert.Bind("@account_id", final.AccountId);
        insert.Bind("@contract_id", final.ContractId);
        insert.Bind("@state", ReservationStateNames.ToName(final.State));
        insert.Bind("@reserved", final.ReservedMicro);
        insert.Bind("@posted", final.PostedMicro);
        insert.Bind("@overage", final.OverageMicro);
        insert.Bind("@created_at", SqliteTime.ToUnixMicroseconds(final.CreatedAt));
        insert.Bind("@expires_at", SqliteTime.ToUnixMicroseconds(final.ExpiresAt));
        insert.Execute();

        var insertDraw = context.Raw(CreditLedgerSql.InsertResolvedDraw);
        var redeem = context.Raw(CreditLedgerSql.RedeemFromLot);
        for (var seq = 0; seq < final.Draws.Count; seq++)
        {
            var draw = final.Draws[seq];
            insertDraw.Bind("@reservation_id", final.ReservationId);
            insertDraw.Bind("@seq", seq);
            insertDraw.Bind("@lot_id", draw.LotId);
            insertDraw.Bind("@reserved", draw.ReservedMicro);
            insertDraw.Bind("@posted", draw.PostedMicro);
            insertDraw.Execute();
            if (draw.PostedMicro != 0)
            {
                redeem.Bind("@amount", draw.PostedMicro);
                redeem.Bind("@lot_id", draw.LotId);
                CreditWriteSteps.Expect(redeem.Execute(), $"lot {draw.LotId} does not hold the {draw.PostedMicro} that reservation {final.ReservationId} posts");
            }
        }

        CreditWriteSteps.AddOverage(context, final.AccountId, final.OverageMicro);
        return final;
    }
}
