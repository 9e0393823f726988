namespace MeterAgent.Ledger.Accounts;

public interface IAccountStore
{
    Task<Account> CreateAccountAsync(string name, CancellationToken cancellationToken = default);

    Task<Account?> GetAccountAsync(string accountId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Account>> ListAccountsAsync(CancellationToken cancellationToken = default);

    /// <summary>Issues a new random key for the account; null when the account does not exist.</summary>
    Task<IssuedKey?> IssueKeyAsync(string accountId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(string accountId, CancellationToken cancellationToken = default);

    /// <summary>Revokes a key; false when no such key. Revocation takes effect for the next request.</summary>
    Task<bool> RevokeKeyAsync(string keyId, CancellationToken cancellationToken = default);

    /// <summary>The key's record when the presented secret matches a key that is not revoked; otherwise null.</summary>
    ValueTask<ApiKeyInfo?> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="AuthenticateAsync"/> from this replica's key cache alone, allocating nothing (the presented key is
    /// not made a string): true with the answer when the cache holds it, false when only the store can tell.
    /// </summary>
    bool TryAuthenticateCached(ReadOnlySpan<char> presentedKey, out ApiKeyInfo? key);
}
