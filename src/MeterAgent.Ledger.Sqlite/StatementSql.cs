namespace MeterAgent.Ledger.Sqlite;

/// <summary>The statements table and the log reads that close an interval (schema 5).</summary>
internal static class StatementSql
{
    private const string HeaderColumns = "seq, contract_id, interval_start, interval_end, amends, tree_size, digest, created_at";

    public const string MaxSequence = "SELECT COALESCE(MAX(seq), 0) FROM statements;";

    public const string Insert = """
        INSERT INTO statements (seq, contract_id, interval_start, interval_end, amends, tree_size, digest, envelope, created_at)
        VALUES (@seq, @contract_id, @interval_start, @interval_end, @amends, @tree_size, @digest, @envelope, @created_at);
        """;

    public const string Latest = $"SELECT {HeaderColumns} FROM statements ORDER BY seq DESC LIMIT 1;";

    public const string List = $"SELECT {HeaderColumns} FROM statements WHERE seq > @since ORDER BY seq LIMIT @limit;";

    public const string Envelope = "SELECT envelope FROM statements WHERE seq = @seq;";

    public const string ForInterval = $"SELECT {HeaderColumns} FROM statements WHERE contract_id = @contract_id AND interval_start = @interval_start ORDER BY seq;";

    public const string StatedUntil = "SELECT MAX(interval_end) FROM statements WHERE contract_id = @contract_id;";

    public const string LoggedContracts = "SELECT DISTINCT contract_id FROM log_entries WHERE contract_id IS NOT NULL ORDER BY contract_id;";

    public const string FirstStart = "SELECT MIN(started_at) FROM log_entries WHERE contract_id = @contract_id;";

    /// <summary>
    /// An interval's records are appended while it runs (and its grace period), so its leaves lie close together: find
    /// the first with the index, then read forward in index order (the table's own order, so no sort). The unary
    /// <c>+</c> keeps the planner off the index for the forward read, which would otherwise fetch and sort row by row.
    /// </summary>
    public const string Leaves = """
        SELECT idx, entry FROM log_entries
        WHERE idx >= (SELECT MIN(idx) FROM log_entries WHERE contract_id = @contract_id AND started_at >= @from AND started_at < @to)
          AND idx < @below AND +contract_id = @contract_id AND +started_at >= @from AND +started_at < @to
        ORDER BY idx;
        """;
}
