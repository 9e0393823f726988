namespace MeterAgent.Ledger.Accounts;

/// <summary>A client key as stored: never the key itself, only its id, account, a display prefix and dates.</summary>
public sealed record ApiKeyInfo(string KeyId, string AccountId, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
