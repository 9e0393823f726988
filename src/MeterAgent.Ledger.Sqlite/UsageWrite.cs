using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>One usage write for the shared writer: an open, a close, or the start-up recovery of open records.</summary>
internal sealed class UsageWrite : SqliteWriteOperation<int>
{
    private static readonly string Recover = $"""
        UPDATE usage_records SET status = '{UsageStatusNames.Interrupted}', ended_at = @now, error = @error
        WHERE status = '{UsageStatusNames.Open}';
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
                var open = context.Raw(UsageRecordSql.Open);
                UsageRecordSql.Bind(open, Record!, UsageStatus.Open);
                return open.Execute();
            case UsageWriteKind.Close:
                var close = context.Raw(UsageRecordSql.Close);
                UsageRecordSql.Bind(close, Record!, Record!.Status);
                return close.Execute();
            case UsageWriteKind.RecoverOpen:
                var recover = context.Command(Recover, "@now", "@error");
                recover.Parameters[0].Value = SqliteTime.ToUnixMicroseconds(Now);
                recover.Parameters[1].Value = SqliteUsageStore.InterruptedError;
                var recovered = recover.ExecuteNonQuery();
                AppendUnlogged(context);
                return recovered;
            default:
                throw new InvalidOperationException($"Unknown write kind {Kind}.");
        }
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
