using MeterAgent.Ledger.Counters;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The embedded store's live counters: on one node the records themselves are summed (an indexed scan of the account's
/// rows), so there is nothing to flush and nothing that can drift from the records.
/// </summary>
public sealed class SqliteUsageCounters(SqliteDatabase database) : IUsageCounters
{
    private static readonly string Sum = $"""
        SELECT COALESCE(contract_id, ''), COALESCE(served_model, requested_model, ''), COUNT(*),
               SUM(reference_input_tokens), SUM(reference_output_tokens), IFNULL(SUM(native_input_tokens), 0),
               IFNULL(SUM(native_cached_input_tokens), 0), IFNULL(SUM(native_cache_write_tokens), 0), IFNULL(SUM(native_output_tokens), 0),
               IFNULL(SUM(native_reasoning_tokens), 0), IFNULL(SUM(units_micro), 0), IFNULL(SUM(redeemed_micro), 0), IFNULL(SUM(overage_micro), 0)
        FROM usage_records
        WHERE account_id = @account_id AND status <> '{UsageStatusNames.ToName(Usage.UsageStatus.Open)}'
        GROUP BY 1, 2
        ORDER BY 1, 2;
        """;

    public bool NeedsFlushing => false;

    public Task AddAsync(string batchId, IReadOnlyDictionary<UsageCounterKey, UsageTotals> totals, CancellationToken cancellationToken = default) =>
        Task.CompletedTask;

    public Task<IReadOnlyList<(string ContractId, string Model, UsageTotals Totals)>> ReadAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, Sum, "@account_id");
        command.Parameters[0].Value = accountId;
        using var reader = command.ExecuteReader();
        var rows = new List<(string, string, UsageTotals)>();
        while (reader.Read())
        {
            var totals = new UsageTotals();
            for (var i = 0; i < UsageTotals.FieldNames.Count; i++)
            {
                totals.Add(i, reader.GetInt64(2 + i));
            }

            rows.Add((reader.GetString(0), reader.GetString(1), totals));
        }

        return Task.FromResult<IReadOnlyList<(string, string, UsageTotals)>>(rows);
    }
}
