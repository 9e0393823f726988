namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The rows of <c>settle_outbox</c>: one per credited request whose post is not yet acknowledged by the shared ledger.
/// Start-up recovery asks <see cref="HeldIds"/> which open records it must leave to the outbox.
/// </summary>
internal static class SettleOutboxSql
{
    public const string Hold = """
        INSERT INTO settle_outbox (usage_id, reservation_id, account_id, actual_micro, status, record, draws, created_at)
        VALUES (@usage_id, @reservation_id, @account_id, @actual_micro, @status, @record, @draws, @created_at)
        ON CONFLICT (usage_id) DO NOTHING;
        """;

    public const string Delete = "DELETE FROM settle_outbox WHERE usage_id = @usage_id;";

    public const string SelectPending = """
        SELECT usage_id, reservation_id, account_id, actual_micro, status, record, draws, created_at
        FROM settle_outbox ORDER BY created_at, usage_id LIMIT @limit;
        """;

    public const string Count = "SELECT COUNT(*) FROM settle_outbox;";

    public const string SelectHeld = "SELECT usage_id FROM settle_outbox;";

    /// <summary>A condition on a <c>usage_records</c> or journal row: its record has no settle intent.</summary>
    public const string NotHeld = "id NOT IN (SELECT usage_id FROM settle_outbox)";

    /// <summary>The usage ids the outbox holds, read in the writer's transaction.</summary>
    public static HashSet<string> HeldIds(SqliteWriteContext context)
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        using var reader = context.Command(SelectHeld).ExecuteReader();
        while (reader.Read())
        {
            held.Add(reader.GetString(0));
        }

        return held;
    }
}
