namespace MeterAgent.Ledger.RateLimits;

/// <summary>Whose limits: an account's own (<see cref="KeyId"/> null), or one of its keys'.</summary>
public readonly record struct RateLimitSubject(string AccountId, string? KeyId)
{
    public static RateLimitSubject Account(string accountId) => new(accountId, null);

    public static RateLimitSubject Key(string accountId, string keyId) => new(accountId, keyId);

    public bool IsKey => KeyId is not null;

    public override string ToString() => KeyId is null ? $"account {AccountId}" : $"key {KeyId} of account {AccountId}";
}
