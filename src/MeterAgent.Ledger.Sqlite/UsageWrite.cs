using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// One usage write for the shared writer: a close, or the start-up recovery of open records. Opens are not written
/// here: they go to the <see cref="UsageOpenJournal"/> file, off SQLite.
/// </summary>
internal sealed class UsageWrite : SqliteWriteOperation<int>
{
    private static readonly string Recover = $"""
        UPDATE usage_records SET status = '{UsageStatusNames.Interrupted}', ended_at = @now, error = @error
        WHERE status = '{UsageStatusNames.Open}' AND {SettleOutboxSql.NotHeld};
        """;

    // A close's caller is a settlement, resumed with its batch.
    private UsageWrite(UsageWriteKind kind, UsageRecord? record, DateTimeOffset now)
        : base(resumesWithBatch: kind == UsageWriteKind.Close)
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

    /// <summary>A close comes after its response has left; recovery runs before any request.</summary>
    public override bool CanWait => Kind == UsageWriteKind.Close;

    public static UsageWrite Close(UsageRecord record) => new(UsageWriteKind.Close, record, default);

    public static UsageWrite RecoverOpen(DateTimeOffset now) => new(UsageWriteKind.RecoverOpen, null, now);

    /// <returns>Rows changed (recovery reports how many it closed).</returns>
    protected override int Run(SqliteWriteContext context)
    {
        switch (Kind)
        {
            case UsageWriteKind.Close:
                var close = context.Raw(UsageRecordSql.Close);
                UsageRecordSql.Bind(close, Record!, Record!.Status);
                var changed = close.Execute();
                context.ClosedUsageIds.Add(Record!.Id);
                return changed;
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
    /// Closes every open in the journal file with no usage_records row as interrupted (inserted as it was opened, with
    /// the status, end time and error recovery gives it). Every id it closed has a row once this commits, so it is
    /// acknowledged: the journal then deletes the segments that held them. That includes the opens of a schema-6 file's
    /// <c>usage_journal</c> table, which the migration moved into a segment. Records held by the settle outbox are the
    /// exception: they stay open in the journal until the outbox closes them.
    /// </summary>
    private int RecoverJournal(SqliteWriteContext context)
    {
        // A record whose settle intent is in the outbox is not interrupted: the outbox posts and closes it.
        var held = SettleOutboxSql.HeldIds(context);
        var recovered = 0;
        var insert = context.Raw(UsageRecordSql.Open);
        foreach (var (id, payload) in context.Journal.SnapshotOpen())
        {
            if (held.Contains(id))
            {
                continue;
            }

            var record = UsageJournalCodec.Decode(payload);
            record.Status = UsageStatus.Interrupted;
            record.EndedAt = Now;
            record.Error = SqliteUsageStore.InterruptedError;
            UsageRecordSql.Bind(insert, record, UsageStatus.Interrupted);

            // A record already closed has its row: the insert changes nothing, and the open is acknowledged all the same.
            recovered += insert.Execute();
            context.ClosedUsageIds.Add(id);
        }

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
