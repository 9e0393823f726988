using MeterAgent.Attestation.Entries;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Reads the log's entries on a reader connection: what has been committed, in index order.</summary>
public sealed class SqliteUsageLog(SqliteDatabase database, SqliteWriter writer) : IUsageLog
{
    public Task AppendAsync(IReadOnlyList<UsageRecord> closed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(closed);
        return closed.Count == 0 ? Task.CompletedTask : writer.SubmitAsync(new AppendLogWrite(closed), cancellationToken);
    }

    public Task<IReadOnlyList<byte[]>> ReadAsync(long from, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, LogEntrySql.ReadFrom, "@from", "@limit");
        command.Parameters[0].Value = from;
        command.Parameters[1].Value = limit;
        using var reader = command.ExecuteReader();
        var entries = new List<byte[]>();
        var expected = from;
        while (reader.Read())
        {
            // Indices are contiguous by construction; a gap would make every later leaf's position wrong.
            if (reader.GetInt64(0) != expected++)
            {
                throw new InvalidOperationException($"The usage log has a gap before index {reader.GetInt64(0)}.");
            }

            entries.Add((byte[])reader.GetValue(1));
        }

        return Task.FromResult<IReadOnlyList<byte[]>>(entries);
    }

    public Task<LoggedEntry?> FindAsync(string usageId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(usageId);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, LogEntrySql.FindByUsageId, "@usage_id");
        command.Parameters[0].Value = usageId;
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return Task.FromResult<LoggedEntry?>(null);
        }

        // The account is read from the entry itself, not from usage_records: a proof is about the logged bytes.
        var entry = (byte[])reader.GetValue(1);
        return Task.FromResult<LoggedEntry?>(new LoggedEntry(reader.GetInt64(0), entry, UsageEntryEncoding.Decode(entry).AccountId));
    }
}
