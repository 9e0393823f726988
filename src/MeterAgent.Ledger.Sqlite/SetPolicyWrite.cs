using MeterAgent.Ledger.Credits;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>Sets an account's overage policy, ordered with the reservations that read it.</summary>
internal sealed class SetPolicyWrite(string accountId, OveragePolicy policy) : SqliteWriteOperation<bool>
{
    public override string Description => $"credit policy of {accountId}";

    protected override bool Run(SqliteWriteContext context)
    {
        var accountExists = context.Command(CreditLedgerSql.AccountExists, "@account_id");
        accountExists.Parameters[0].Value = accountId;
        if (accountExists.ExecuteScalar() is null)
        {
            throw new KeyNotFoundException($"No account '{accountId}'.");
        }

        var upsert = context.Command(CreditLedgerSql.UpsertPolicy, "@account_id", "@kind", "@limit_micro");
        upsert.Parameters[0].Value = accountId;
        upsert.Parameters[1].Value = OveragePolicyNames.ToName(policy.Kind);
        upsert.Parameters[2].Value = policy.LimitMicro;
        upsert.ExecuteNonQuery();
        return true;
    }
}
