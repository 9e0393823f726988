using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>The outbox's two writes: hold an intent, or close its record and drop the intent in one transaction.</summary>
internal sealed class SettleOutboxWrite : SqliteWriteOperation<int>
{
    private readonly SettleIntent? _intent;
    private readonly UsageRecord? _closed;
    private readonly bool _appendLog;

    private SettleOutboxWrite(SettleIntent? intent, UsageRecord? closed, bool appendLog)
    {
        _intent = intent;
        _closed = closed;
        _appendLog = appendLog;
    }

    public override string Description => _intent is not null ? $"settle outbox hold {_intent.UsageId}" : $"settle outbox close {_closed!.Id}";

    public static SettleOutboxWrite Hold(SettleIntent intent) => new(intent, null, appendLog: false);

    public static SettleOutboxWrite Close(UsageRecord closed, bool appendLog) => new(null, closed, appendLog);

    /// <returns>Rows of <c>settle_outbox</c> added (hold) or removed (close).</returns>
    protected override int Run(SqliteWriteContext context)
    {
        if (_intent is { } intent)
        {
            var hold = context.Raw(SettleOutboxSql.Hold);
            UsageJournalCodec.Encode(intent.Record, context.RecordBuffer);
            hold.Bind("@usage_id", intent.UsageId);
            hold.Bind("@reservation_id", intent.ReservationId);
            hold.Bind("@account_id", intent.AccountId);
            hold.Bind("@actual_micro", intent.ActualMicro);
            hold.Bind("@status", UsageStatusNames.ToName(intent.Record.Status));
            hold.Bind("@record", context.RecordBuffer.WrittenSpan);
            hold.Bind("@draws", intent.Draws);
            hold.Bind("@created_at", SqliteTime.ToUnixMicroseconds(intent.CreatedAt));
            return hold.Execute();
        }

        var record = _closed!;
        var close = context.Raw(UsageRecordSql.Close);
        UsageRecordSql.Bind(close, record, record.Status);
        close.Execute();

        // The open in the journal file is acknowledged once this commits (recovery left it open for the outbox).
        context.ClosedUsageIds.Add(record.Id);
        if (_appendLog)
        {
            // A replay has no settlement observer to append the log entry (the process that held the request may be
            // gone): the entry is written with the close. Idempotent by usage id, so the observer's append, if it runs
            // too, changes nothing.
            LogEntrySql.AppendFor(context, record);
        }

        var delete = context.Raw(SettleOutboxSql.Delete);
        delete.Bind("@usage_id", record.Id);
        return delete.Execute();
    }
}
