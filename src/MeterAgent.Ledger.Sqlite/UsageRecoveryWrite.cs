using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The start-up recovery of the records a stop or crash left open, for the shared writer: they close as interrupted.
/// </summary>
internal sealed class UsageRecoveryWrite(DateTimeOffset now) : SqliteWriteOperation<int>
{
    private static readonly string Recover = $"""
        UPDATE usage_records SET status = '{UsageStatusNames.Interrupted}', ended_at = @now, error = @error
        WHERE status = '{UsageStatusNames.Open}' AND {SettleOutboxSql.NotHeld};
        """;

    /// <summary>When recovery closes the records left open.</summary>
    public DateTimeOffset Now { get; } = now;

    public override string Description => "usage recovery of open records";

    /// <returns>Records closed.</returns>
    protected override int Run(SqliteWriteContext context)
    {
        var recovered = RecoverJournal(context);

        // Files written before the journal (schema 5 and older) kept open records in usage_records.
        var recover = context.Command(Recover, "@now", "@error");
        recover.Parameters[0].Value = SqliteTime.ToUnixMicroseconds(Now);
        recover.Parameters[1].Value = SqliteUsageStore.InterruptedError;
        recovered += recover.ExecuteNonQuery();

        // Recovery also appends the log entries of what it closes (and of any closed record the log lacks): undone together.
        AppendUnlogged(context);
        return recovered;
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
