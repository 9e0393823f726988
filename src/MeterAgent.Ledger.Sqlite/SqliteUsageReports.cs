using MeterAgent.Ledger.Counters;
using MeterAgent.Ledger.Usage;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Daily usage per model, summed from <c>usage_records</c> with the live counters' definition of each total
/// (<see cref="SqliteUsageCounters"/>): closed records only, keyed by the served model, else the requested one.
/// </summary>
public sealed class SqliteUsageReports(SqliteDatabase database) : IUsageReports
{
    private const long MicrosecondsPerDay = 86_400_000_000;

    private static readonly string Daily = $"""
        SELECT started_at / {MicrosecondsPerDay}, COALESCE(served_model, requested_model, ''), COUNT(*),
               SUM(reference_input_tokens), SUM(reference_output_tokens), IFNULL(SUM(native_input_tokens), 0),
               IFNULL(SUM(native_cached_input_tokens), 0), IFNULL(SUM(native_cache_write_tokens), 0), IFNULL(SUM(native_output_tokens), 0),
               IFNULL(SUM(native_reasoning_tokens), 0), IFNULL(SUM(units_micro), 0), IFNULL(SUM(redeemed_micro), 0), IFNULL(SUM(overage_micro), 0)
        FROM usage_records
        WHERE (@account_id IS NULL OR account_id = @account_id) AND started_at >= @from AND started_at < @to
          AND status <> '{UsageStatusNames.ToName(UsageStatus.Open)}'
        GROUP BY 1, 2
        ORDER BY 1, 2;
        """;

    public Task<IReadOnlyList<DailyUsage>> DailyAsync(string? accountId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, Daily, "@account_id", "@from", "@to");
        command.Parameters[0].Value = (object?)accountId ?? DBNull.Value;
        command.Parameters[1].Value = SqliteTime.ToUnixMicroseconds(from);
        command.Parameters[2].Value = SqliteTime.ToUnixMicroseconds(to);
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
