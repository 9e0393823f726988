using MeterAgent.Ledger.RateLimits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Sets (policy) or clears (null) one subject's rate limits; true when a row was written or removed.</summary>
internal sealed class SetRateLimitWrite(RateLimitSubject subject, RateLimitPolicy? policy) : SqliteWriteOperation<bool>
{
    public override string Description => $"rate limits of {subject}";

    protected override bool Run(SqliteWriteContext context)
    {
        if (policy is null)
        {
            var delete = context.Command(RateLimitSql.Delete, "@account_id", "@key_id");
            delete.Parameters[0].Value = subject.AccountId;
            delete.Parameters[1].Value = subject.KeyId ?? RateLimitSql.AccountRow;
            return delete.ExecuteNonQuery() > 0;
        }

        var accountExists = context.Command(CreditLedgerSql.AccountExists, "@account_id");
        accountExists.Parameters[0].Value = subject.AccountId;
        if (accountExists.ExecuteScalar() is null)
        {
            throw new KeyNotFoundException($"No account '{subject.AccountId}'.");
        }

        var upsert = context.Command(RateLimitSql.Upsert, "@account_id", "@key_id", "@tokens_per_minute", "@requests_per_minute");
        upsert.Parameters[0].Value = subject.AccountId;
        upsert.Parameters[1].Value = subject.KeyId ?? RateLimitSql.AccountRow;
        upsert.Parameters[2].Value = (object?)policy.TokensPerMinute ?? DBNull.Value;
        upsert.Parameters[3].Value = (object?)policy.RequestsPerMinute ?? DBNull.Value;
        upsert.ExecuteNonQuery();
        return true;
    }
}
