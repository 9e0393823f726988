using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The settle outbox in the replica's local store (table <c>settle_outbox</c>), written through the shared
/// <see cref="SqliteWriter"/>: an intent is durable once <see cref="HoldAsync"/> returns, and
/// <see cref="CloseAsync"/> closes its record and drops it in one transaction. A backend whose ledger lives elsewhere
/// (Redis) posts between the two; see docs/distributed.md, "Redis unavailable".
/// </summary>
internal sealed class SqliteSettleOutbox
{
    private readonly SqliteWriter _writer;
    private readonly SqliteDatabase _database;
    private long _pending = -1;

    public SqliteSettleOutbox(SqliteWriter writer, SqliteDatabase database)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(database);
        _writer = writer;
        _database = database;
    }

    /// <summary>Intents held now (exact: counted from the table once, then kept with every hold and close).</summary>
    public long Pending
    {
        get
        {
            if (Interlocked.Read(ref _pending) < 0)
            {
                using var connection = _database.OpenConnection();
                using var command = connection.CreateCommand();
                command.CommandText = SettleOutboxSql.Count;
                var counted = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
                Interlocked.CompareExchange(ref _pending, counted, -1);
            }

            return Interlocked.Read(ref _pending);
        }
    }

    public async Task HoldAsync(SettleIntent intent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(intent);
        _ = Pending;
        var added = await _writer.SubmitAsync(SettleOutboxWrite.Hold(intent), cancellationToken);
        Interlocked.Add(ref _pending, added);
    }

    /// <summary>Closes the record (redemption fields filled from the acknowledged post) and drops its intent, atomically.</summary>
    public async Task CloseAsync(UsageRecord closed, bool appendLog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(closed);
        _ = Pending;
        var removed = await _writer.SubmitAsync(SettleOutboxWrite.Close(closed, appendLog), cancellationToken);
        Interlocked.Add(ref _pending, -removed);
    }

    /// <summary>The oldest intents, up to <paramref name="limit"/>.</summary>
    public IReadOnlyList<SettleIntent> ReadPending(int limit)
    {
        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = SettleOutboxSql.SelectPending;
        command.Parameters.AddWithValue("@limit", limit);
        using var reader = command.ExecuteReader();
        var intents = new List<SettleIntent>();
        while (reader.Read())
        {
            var record = UsageJournalCodec.Decode((byte[])reader.GetValue(5));
            record.Status = UsageStatusNames.FromName(reader.GetString(4));
            intents.Add(new SettleIntent(
                reader.GetString(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3),
                record, reader.GetString(6), SqliteTime.FromUnixMicroseconds(reader.GetInt64(7))));
        }

        return intents;
    }
}
