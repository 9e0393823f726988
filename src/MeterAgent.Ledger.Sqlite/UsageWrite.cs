using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// A record's close for the shared writer. Opens are not written here: they go to the <see cref="UsageOpenJournal"/>
/// file, off SQLite. The start-up recovery of open records is <see cref="UsageRecoveryWrite"/>.
/// </summary>
internal sealed class UsageWrite : SqliteWriteOperation<int>
{
    // A close's caller is a settlement, resumed with its batch.
    private UsageWrite(UsageRecord record)
        : base(resumesWithBatch: true)
    {
        Record = record;
    }

    public UsageRecord Record { get; }

    public override string Description => $"usage close {Record.Id}";

    public override bool IsSingleStatement => true;

    /// <summary>A close comes after its response has left.</summary>
    public override bool CanWait => true;

    public static UsageWrite Close(UsageRecord record) => new(record);

    /// <returns>Rows changed.</returns>
    protected override int Run(SqliteWriteContext context)
    {
        var close = context.Raw(UsageRecordSql.Close);
        UsageRecordSql.Bind(close, Record, Record.Status);
        var changed = close.Execute();
        context.ClosedUsageIds.Add(Record.Id);
        return changed;
    }
}
