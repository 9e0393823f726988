namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The schema-6 write-ahead table (<c>usage_journal</c>): an open appended the record packed by
/// <see cref="UsageJournalCodec"/>, and a row was open while its id had no <c>usage_records</c> row. Schema 7 moved the
/// opens to <see cref="UsageOpenJournal"/>'s file; its migration reads what a schema-6 file still holds open with this.
/// </summary>
internal static class UsageJournalSql
{
    /// <summary>The records open in the table, in the order they were opened (a repeated open may appear twice).</summary>
    public const string SelectOpen =
        "SELECT j.record FROM usage_journal j WHERE NOT EXISTS (SELECT 1 FROM usage_records u WHERE u.id = j.id) ORDER BY j.seq;";
}
