namespace MeterAgent.Ledger.Sqlite;

/// <summary>The <c>rate_limits</c> table's statements; an account's own row has key_id ''.</summary>
internal static class RateLimitSql
{
    public const string AccountRow = "";

    public const string SelectAll = "SELECT account_id, key_id, tokens_per_minute, requests_per_minute FROM rate_limits;";

    public const string Upsert = """
        INSERT INTO rate_limits (account_id, key_id, tokens_per_minute, requests_per_minute)
        VALUES (@account_id, @key_id, @tokens_per_minute, @requests_per_minute)
        ON CONFLICT (account_id, key_id) DO UPDATE SET
            tokens_per_minute = excluded.tokens_per_minute, requests_per_minute = excluded.requests_per_minute;
        """;

    public const string Delete = "DELETE FROM rate_limits WHERE account_id = @account_id AND key_id = @key_id;";
}
