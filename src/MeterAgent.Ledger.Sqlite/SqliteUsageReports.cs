using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Daily usage per model with the live counters' definition of each total (<see cref="SqliteUsageCounters"/>): closed
/// records only, keyed by the served model, else the requested one. Whole UTC days are read from the rollups
/// (<see cref="UsageRollupSql"/>: per account, or over all accounts) plus the records past their watermark; the parts of
/// a day that <c>from</c> or <c>to</c> cut are summed from the records themselves (by the account's start-time index; over
/// all accounts that is a scan, so the consoles ask for whole days). One statement, one snapshot: the result is the plain
/// GROUP BY's (<see cref="Plain"/>).
/// </summary>
public sealed class SqliteUsageReports(SqliteDatabase database) : IUsageReports
{
    private const long Day = UsageRollupSql.MicrosecondsPerDay;

    private static readonly string Open = UsageStatusNames.ToName(UsageStatus.Open);

    /// <summary>The plain GROUP BY over the records: what the rollup read must always equal (tests).</summary>
    internal static readonly string Plain = $"""
        SELECT started_at / {Day}, COALESCE(served_model, requested_model, ''), {UsageRollupSql.GroupSums}
        FROM usage_records
        WHERE (@account_id IS NULL OR account_id = @account_id) AND started_at >= @from AND started_at < @to
          AND status <> '{Open}'
        GROUP BY 1, 2
        ORDER BY 1, 2;
        """;

    private static string Rolled(bool forAccount, bool edges)
    {
        var rollup = forAccount ? "usage_rollup WHERE account_id = @account_id AND" : "usage_rollup_day WHERE";
        var account = forAccount ? "+account_id = @account_id AND" : string.Empty;
        var edgeAccount = forAccount ? "account_id = @account_id AND" : string.Empty;
        return $"""
            SELECT day, model, {UsageRollupSql.RollupSums}
            FROM (
                SELECT day, model, {UsageRollupSql.RollupColumns} FROM {rollup} day >= @first_day AND day < @end_day
                UNION ALL
                SELECT {UsageRollupSql.Day}, {UsageRollupSql.Model}, {UsageRollupSql.RecordValues} FROM usage_records
                WHERE rowid > (SELECT folded FROM usage_rollup_state) AND {account} +status <> '{Open}'
                  AND +started_at >= @first_day * {Day} AND +started_at < @end_day * {Day}
                {(edges ? $"""
                UNION ALL
                SELECT {UsageRollupSql.Day}, {UsageRollupSql.Model}, {UsageRollupSql.RecordValues} FROM usage_records
                WHERE {edgeAccount} status <> '{Open}'
                  AND (started_at >= @from AND started_at < @head_end OR started_at >= @tail_start AND started_at < @to)
                """ : string.Empty)}
            )
            GROUP BY 1, 2
            HAVING SUM(requests) <> 0
            ORDER BY 1, 2;
            """;
    }

    // [account or all][with cut days]: a query over whole days has no edge part (over all accounts it would be a scan).
    private static readonly string[,] RolledQueries =
    {
        { Rolled(forAccount: false, edges: false), Rolled(forAccount: false, edges: true) },
        { Rolled(forAccount: true, edges: false), Rolled(forAccount: true, edges: true) },
    };

    public Task<IReadOnlyList<DailyUsage>> DailyAsync(string? accountId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var fromMicros = SqliteTime.ToUnixMicroseconds(from);
        var toMicros = SqliteTime.ToUnixMicroseconds(to);

        // The whole days inside [from, to). Integer division truncates toward zero, as the rollup's day does, so the
        // rollup is used only for times after 1970; anything else is summed plainly.
        var firstDay = (fromMicros + Day - 1) / Day;
        var endDay = toMicros / Day;
        if (fromMicros < 0 || toMicros <= fromMicros || endDay <= firstDay)
        {
            return Read(accountId, Plain, fromMicros, toMicros, null, cancellationToken);
        }

        var edges = fromMicros != firstDay * Day || toMicros != endDay * Day;
        var sql = RolledQueries[accountId is null ? 0 : 1, edges ? 1 : 0];
        return Read(accountId, sql, fromMicros, toMicros, (firstDay, endDay), cancellationToken);
    }

    /// <summary>The plain GROUP BY over the records (tests compare it with <see cref="DailyAsync"/>).</summary>
    internal Task<IReadOnlyList<DailyUsage>> DailyPlainAsync(string? accountId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        Read(accountId, Plain, SqliteTime.ToUnixMicroseconds(from), SqliteTime.ToUnixMicroseconds(to), null, cancellationToken);

    private Task<IReadOnlyList<DailyUsage>> Read(
        string? accountId, string sql, long from, long to, (long First, long End)? days, CancellationToken cancellationToken)
    {
        using var connection = database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, sql, "@account_id", "@from", "@to");
        command.Parameters[0].Value = (object?)accountId ?? DBNull.Value;
        command.Parameters[1].Value = from;
        command.Parameters[2].Value = to;
        if (days is var (first, end))
        {
            command.Parameters.AddWithValue("@first_day", first);
            command.Parameters.AddWithValue("@end_day", end);
            command.Parameters.AddWithValue("@head_end", first * Day);
            command.Parameters.AddWithValue("@tail_start", end * Day);
        }

        using var reader = command.ExecuteReader();
        var rows = new List<DailyUsage>();
        while (reader.Read())
        {
            var totals = new UsageTotals();
            for (var i = 0; i < UsageTotals.FieldNames.Count; i++)
            {
                totals.Add(i, reader.GetInt64(2 + i));
            }

            var day = DateOnly.FromDateTime(DateTime.UnixEpoch.AddDays(reader.GetInt64(0)));
            rows.Add(new DailyUsage(day, reader.GetString(1), totals));
        }

        return Task.FromResult<IReadOnlyList<DailyUsage>>(rows);
    }
}
