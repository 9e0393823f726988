using MeterAgent.Ledger.Counters;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// The embedded store's live counters: on one node they are the records themselves, summed, so there is nothing to
/// flush and nothing that can drift from the records. The sum reads the account's rollup rows (UsageRollupSql: a few
/// per model and day, however many records) plus its records past the rollup's watermark, in one statement.
/// </summary>
public sealed class SqliteUsageCounters(SqliteDatabase database) : IUsageCounters
{
    /// <summary>The plain sum over every record of the account: what <see cref="Sum"/> must always equal (tests).</summary>
    internal static readonly string PlainSum = $"""
        SELECT COALESCE(contract_id, ''), COALESCE(served_model, requested_model, ''), COUNT(*),
               SUM(reference_input_tokens), SUM(reference_output_tokens), IFNULL(SUM(native_input_tokens), 0),
               IFNULL(SUM(native_cached_input_tokens), 0), IFNULL(SUM(native_cache_write_tokens), 0), IFNULL(SUM(native_output_tokens), 0),
               IFNULL(SUM(native_reasoning_tokens), 0), IFNULL(SUM(units_micro), 0), IFNULL(SUM(redeemed_micro), 0), IFNULL(SUM(overage_micro), 0)
        FROM usage_records
        WHERE account_id = @account_id AND status <> '{UsageStatusNames.ToName(Usage.UsageStatus.Open)}'
        GROUP BY 1, 2
        ORDER BY 1, 2;
        """;

    // +account_id, +status: the records past the watermark are found by their rowid range, never by an index that
    // would walk all of a big account's rows.
    internal static readonly string Sum = $"""
        SELECT contract_id, model, {UsageRollupSql.RollupSums}
        FROM (
            SELECT contract_id, model, {UsageRollupSql.RollupColumns} FROM usage_rollup WHERE account_id = @account_id
            UNION ALL
            SELECT {UsageRollupSql.Contract}, {UsageRollupSql.Model}, {UsageRollupSql.RecordValues} FROM usage_records
            WHERE rowid > (SELECT folded FROM usage_rollup_state) AND +account_id = @account_id AND +status <> '{UsageStatusNames.Open}'
        )
        GROUP BY 1, 2
        HAVING SUM(requests) <> 0
        ORDER BY 1, 2;
        """;

    public bool NeedsFlushing => false;

    public Task AddAsync(string batchId, IReadOnlyDictionary<UsageCounterKey, UsageTotals> totals, CancellationToken cancellationToken = default) =>
        Task.CompletedTask;

    public Task<IReadOnlyList<(string ContractId, string Model, UsageTotals Totals)>> ReadAsync(string accountId, CancellationToken cancellationToken = default) =>
        Read(accountId, Sum, cancellationToken);

    /// <summary>The same totals by the plain sum over the records (tests compare the two).</summary>
    internal Task<IReadOnlyList<(string ContractId, string Model, UsageTotals Totals)>> ReadPlainAsync(string accountId, CancellationToken cancellationToken = default) =>
        Read(accountId, PlainSum, cancellationToken);

    private Task<IReadOnlyList<(string ContractId, string Model, UsageTotals Totals)>> Read(string accountId, string sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = database.OpenConnection();
        using var command = CreditLedgerSql.Create(connection, sql, "@account_id");
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
