using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Appends the log entries of records already closed, in one write: the log's batched path.</summary>
internal sealed class AppendLogWrite(IReadOnlyList<UsageRecord> closed) : SqliteWriteOperation<int>
{
    /// <inheritdoc/>
    public override bool CanWait => true;

    public override string Description => $"usage log append {closed.Count}";

    protected override int Run(SqliteWriteContext context)
    {
        foreach (var record in closed)
        {
            LogEntrySql.AppendFor(context, record);
        }

        return closed.Count;
    }
}
