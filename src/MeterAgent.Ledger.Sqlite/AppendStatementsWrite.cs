using MeterAgent.Ledger.Statements;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Appends one closing pass's statements in one transaction: all of them or none, each continuing the chain. A
/// sequence that does not follow the stored last one fails the write, so a statement is never stored twice.
/// </summary>
internal sealed class AppendStatementsWrite(IReadOnlyList<(StatementHeader Header, byte[] Envelope)> statements) : SqliteWriteOperation<int>
{
    public override string Description => $"statements append {statements.Count}";

    protected override int Run(SqliteWriteContext context)
    {
        var expected = (long)context.Command(StatementSql.MaxSequence).ExecuteScalar()! + 1;
        var insert = context.Raw(StatementSql.Insert);
        foreach (var (header, envelope) in statements)
        {
            if (header.Sequence != expected++)
            {
                throw new InvalidOperationException(
                    $"Statement {header.Sequence} does not continue the chain (the next sequence is {expected - 1}).");
            }

            insert.Bind("@seq", header.Sequence);
            insert.Bind("@contract_id", header.ContractId);
            insert.Bind("@interval_start", SqliteTime.ToUnixMicroseconds(header.IntervalStart));
            insert.Bind("@interval_end", SqliteTime.ToUnixMicroseconds(header.IntervalEnd));
            insert.Bind("@amends", header.Amends);
            insert.Bind("@tree_size", header.TreeSize);
            insert.Bind("@digest", header.Digest);
            insert.Bind("@envelope", envelope);
            insert.Bind("@created_at", SqliteTime.ToUnixMicroseconds(header.CreatedAt));
            insert.Execute();
        }

        return statements.Count;
    }
}
