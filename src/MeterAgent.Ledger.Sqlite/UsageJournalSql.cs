namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The write-ahead journal's rows (<c>usage_journal</c>): an open appends the record packed by
/// <see cref="UsageJournalCodec"/>; the close inserts the full <c>usage_records</c> row. A journal row is open while its
/// id has no <c>usage_records</c> row; the writer deletes the others between batches, so the table holds about the
/// records in flight. Readers look in <c>usage_records</c> first: a closed record never reads as open.
/// </summary>
internal static class UsageJournalSql
{
    public const string Append = "INSERT INTO usage_journal (id, record) VALUES (?1, ?2);";

    private const string IsOpen = "NOT EXISTS (SELECT 1 FROM usage_records u WHERE u.id = j.id)";

    /// <summary>The records open now, in the order they were opened (a repeated open may appear twice).</summary>
    public const string SelectOpen = $"SELECT j.record FROM usage_journal j WHERE {IsOpen} ORDER BY j.seq;";

    /// <summary>One record's journal row; read only after <c>usage_records</c> had none.</summary>
    public const string SelectById = "SELECT record FROM usage_journal WHERE id = @id ORDER BY seq LIMIT 1;";

    public const string CountOpen = $"SELECT COUNT(DISTINCT j.id) FROM usage_journal j WHERE {IsOpen};";

    /// <summary>Drops the journal rows of closed records: one scan of a table about the size of the requests in flight.</summary>
    public const string PruneClosed =
        "DELETE FROM usage_journal WHERE EXISTS (SELECT 1 FROM usage_records u WHERE u.id = usage_journal.id);";

    /// <summary>After recovery every journal row is closed, one way or the other.</summary>
    public const string DeleteAll = "DELETE FROM usage_journal;";
}
