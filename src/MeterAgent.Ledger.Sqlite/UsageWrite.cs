using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>One usage write for the shared writer: an open, a close, or the start-up recovery of open records.</summary>
internal sealed class UsageWrite : SqliteWriteOperation<int>
{
    private static readonly string Recover = $"""
        UPDATE usage_records SET status = '{UsageStatusNames.Interrupted}', ended_at = @now, error = @error
        WHERE status = '{UsageStatusNames.Open}' AND {SettleOutboxSql.NotHeld};
        """;

    private UsageWrite(UsageWriteKind kind, UsageRecord? record, DateTimeOffset now)
    {
        Kind = kind;
        Record = record;
        Now = now;
    }

    public UsageWriteKind Kind { get; }

    public UsageRecord? Record { get; }

    /// <summary>When recovery closes the records left open.</summary>
    public DateTimeOffset Now { get; }

    public override string Description => $"usage {Kind} {Record?.Id}";

    // Recovery also appends the log entries of what it closes (and of any closed record the log lacks): undone together.
    public override bool IsSingleStatement => Kind != UsageWriteKind.RecoverOpen;

    public static UsageWrite Open(UsageRecord record) => new(UsageWriteKind.Open, record, default);

    public static UsageWrite Close(UsageRecord record) => new(UsageWriteKind.Close, record, default);

    public static UsageWrite RecoverOpen(DateTimeOffset now) => new(UsageWriteKind.RecoverOpen, null, now);

    /// <returns>Rows changed (recovery reports how many it closed).</returns>
    protected override int Run(SqliteWriteContext context)
    {
        switch (Kind)
        {
            case UsageWriteKind.Open:
                // A narrow append: the record packed in one BLOB. A repeated open appends again; a record already
                // closed stays closed, because readers and recovery look in usage_records first.
                var open = context.Raw(UsageJournalSql.Append);
                UsageJournalCodec.Encode(Record!, context.JournalBuffer);
                open.Bind(1, Record!.Id);
                open.Bind(2, context.JournalBuffer.WrittenSpan);
                context.UsageWritten = true;
                return open.Execute();
            case UsageWriteKind.Close:
                var close = context.Raw(UsageRecordSql.Close);
                UsageRecordSql.Bind(close, Record!, Record!.Status);
                context.UsageWritten = true;
                return close.Execute();
            case UsageWriteKind.RecoverOpen:
                var recovered = RecoverJournal(context);

                // Files written before the journal (schema 5 and older) kept open records in usage_records.
                var recover = context.Command(Recover, "@now", "@error");
                recover.Parameters[0].Value = SqliteTime.ToUnixMicroseconds(Now);
                recover.Parameters[1].Value = SqliteUsageStore.InterruptedError;
                recovered += recover.ExecuteNonQuery();
                AppendUnlogged(context);
                return recovered;
            default:
                throw new InvalidOperationException($"Unknown write kind {Kind}.");
        }
    }

    /// <summary>
    /// Closes every journal row with no usage_records row as interrupted (inserted as it was opened, with the status,
    /// end time and error recovery gives it), then empties the journal: every row in it is now closed. Records held by
    /// the settle outbox are the exception: they stay open, journal row and all, until the outbox closes them.
    /// </summary>
    private int RecoverJournal(SqliteWriteContext context)
    {
        var open = new List<UsageRecord>();
        using (var reader = context.Command(UsageJournalSql.SelectOpen).ExecuteReader())
        {
            while (reader.Read())
            {
                open.Add(UsageJournalCodec.Decode((byte[])reader.GetValue(0)));
            }
        }

        // A record whose settle intent is in the outbox is not interrupted: the outbox posts and closes it.
        var held = SettleOutboxSql.HeldIds(context);
        var recovered = 0;
        var insert = context.Raw(UsageRecordSql.Open);
        foreach (var record in open)
        {
            if (held.Contains(record.Id))
            {
                continue;
            }

            record.Status = UsageStatus.Interrupted;
            record.EndedAt = Now;
            record.Error = SqliteUsageStore.InterruptedError;
            UsageRecordSql.Bind(insert, record, UsageStatus.Interrupted);

            // A record opened twice has two journal rows: the first insert closes it, the second changes nothing.
            recovered += insert.Execute();
        }

        context.Command(held.Count == 0 ? UsageJournalSql.DeleteAll : SettleOutboxSql.DeleteJournalNotHeld).ExecuteNonQuery();
        return recovered;
    }

    /// <summary>Gives every closed record without a log entry its entry (what recovery closed, or records older than the log).</summary>
    private static void AppendUnlogged(SqliteWriteContext context)
    {
        var unlogged = new List<UsageRecord>();
        using (var reader = context.Command(LogEntrySql.SelectUnlogged).ExecuteReader())
        {
            while (reader.Read())
            {
                unlogged.Add(UsageRecordSql.Read(reader));
            }
        }

        foreach (var record in unlogged)
        {
            LogEntrySql.AppendFor(context, record);
        }
    }
}
