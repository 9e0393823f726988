using System.Security.Cryptography;
using MeterAgent.Ledger.Accounts;
using Microsoft.Data.Sqlite;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Accounts and their keys in SQLite. Only the SHA-256 of a key and a display prefix are stored; the secret leaves
/// this class once, in <see cref="IssuedKey"/>. Authentication is answered from <see cref="ApiKeyCache"/> when it can.
/// </summary>
public sealed class SqliteAccountStore : IAccountStore
{
    private const string KeyColumns = "key_id, account_id, key_hash, prefix, created_at, revoked_at";

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _time;
    private readonly ApiKeyCache _cache;
    private long _databaseLookups;

    public SqliteAccountStore(SqliteDatabase database, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(time);
        _database = database;
        _time = time;
        _cache = new ApiKeyCache(database.Options.KeyCacheTtl, database.Options.KeyCacheCapacity, time);
    }

    /// <summary>Lookups that reached SQLite (cache misses); tests use it to see the cache work.</summary>
    internal long DatabaseLookups => Interlocked.Read(ref _databaseLookups);

    internal int CachedKeys => _cache.Count;

    public Task<Account> CreateAccountAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        cancellationToken.ThrowIfCancellationRequested();

        var account = new Account(ApiKeySecrets.NewAccountId(), name, Now());
        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO accounts (account_id, name, created_at) VALUES (@id, @name, @created);";
        command.Parameters.AddWithValue("@id", account.Id);
        command.Parameters.AddWithValue("@name", account.Name);
        command.Parameters.AddWithValue("@created", SqliteTime.ToUnixMicroseconds(account.CreatedAt));
        command.ExecuteNonQuery();
        return Task.FromResult(account);
    }

    public Task<Account?> GetAccountAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT account_id, name, created_at FROM accounts WHERE account_id = @id;";
        command.Parameters.AddWithValue("@id", accountId);
        using var reader = command.ExecuteReader();
        return Task.FromResult(reader.Read() ? ReadAccount(reader) : null);
    }

    public Task<IReadOnlyList<Account>> ListAccountsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT account_id, name, created_at FROM accounts ORDER BY created_at, account_id;";
        using var reader = command.ExecuteReader();
        var accounts = new List<Account>();
        while (reader.Read())
        {
            accounts.Add(ReadAccount(reader));
        }

        return Task.FromResult<IReadOnlyList<Account>>(accounts);
    }

    public Task<IssuedKey?> IssueKeyAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();

        var secret = ApiKeySecrets.NewSecret();
        var info = new ApiKeyInfo(ApiKeySecrets.NewKeyId(), accountId, ApiKeySecrets.DisplayPrefix(secret), Now(), RevokedAt: null);

        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();

        // One statement checks the account and inserts, so no transaction is needed for "null when no account".
        command.CommandText = """
            INSERT INTO api_keys (key_id, account_id, key_hash, prefix, created_at)
            SELECT @key_id, @account_id, @key_hash, @prefix, @created_at
            WHERE EXISTS (SELECT 1 FROM accounts WHERE account_id = @account_id);
            """;
        command.Parameters.AddWithValue("@key_id", info.KeyId);
        command.Parameters.AddWithValue("@account_id", accountId);
        command.Parameters.AddWithValue("@key_hash", ApiKeySecrets.HashHex(secret));
        command.Parameters.AddWithValue("@prefix", info.Prefix);
        command.Parameters.AddWithValue("@created_at", SqliteTime.ToUnixMicroseconds(info.CreatedAt));
        var inserted = command.ExecuteNonQuery();

        return Task.FromResult(inserted == 1 ? new IssuedKey(info, secret) : null);
    }

    public Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {KeyColumns} FROM api_keys WHERE account_id = @account_id ORDER BY created_at, key_id;";
        command.Parameters.AddWithValue("@account_id", accountId);
        using var reader = command.ExecuteReader();
        var keys = new List<ApiKeyInfo>();
        while (reader.Read())
        {
            keys.Add(ReadKey(reader));
        }

        return Task.FromResult<IReadOnlyList<ApiKeyInfo>>(keys);
    }

    public Task<bool> RevokeKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        cancellationToken.ThrowIfCancellationRequested();

        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();

        // COALESCE keeps the first revocation time when a key is revoked twice.
        command.CommandText = """
            UPDATE api_keys SET revoked_at = COALESCE(revoked_at, @now)
            WHERE key_id = @key_id
            RETURNING key_hash;
            """;
        command.Parameters.AddWithValue("@now", SqliteTime.ToUnixMicroseconds(Now()));
        command.Parameters.AddWithValue("@key_id", keyId);
        if (command.ExecuteScalar() is not string hashHex)
        {
            return Task.FromResult(false);
        }

        // After the commit: a lookup from now on misses the cache and reads the revocation.
        _cache.Evict(hashHex);
        return Task.FromResult(true);
    }

    public bool TryAuthenticateCached(ReadOnlySpan<char> presentedKey, out ApiKeyInfo? key) => _cache.TryAuthenticate(presentedKey, out key);

    public ValueTask<ApiKeyInfo?> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken = default)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Span<char> hex = stackalloc char[ApiKeySecrets.HashHexLength];
        if (_cache.TryAuthenticate(presentedKey, hash, hex, out var cached))
        {
            return ValueTask.FromResult(cached);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var hashHex = new string(hex);
        var generation = _cache.Generation;
        var info = Lookup(hashHex, hash);
        _cache.Set(hashHex, info, generation);
        return ValueTask.FromResult(info);
    }

    private ApiKeyInfo? Lookup(string hashHex, ReadOnlySpan<byte> presentedHash)
    {
        Interlocked.Increment(ref _databaseLookups);
        using var connection = _database.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {KeyColumns} FROM api_keys WHERE key_hash = @key_hash;";
        command.Parameters.AddWithValue("@key_hash", hashHex);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        // The index lookup already matched; the constant-time compare is defence in depth, so that no code path ever
        // accepts a key on a comparison whose timing depends on how much of it was right.
        Span<byte> stored = stackalloc byte[SHA256.HashSizeInBytes];
        if (Convert.FromHexString(reader.GetString(2), stored, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != stored.Length
            || !CryptographicOperations.FixedTimeEquals(stored, presentedHash))
        {
            return null;
        }

        var key = ReadKey(reader);
        return key.RevokedAt is null ? key : null;
    }

    private DateTimeOffset Now() => SqliteTime.FromUnixMicroseconds(SqliteTime.ToUnixMicroseconds(_time.GetUtcNow()));

    private static Account ReadAccount(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), SqliteTime.FromUnixMicroseconds(reader.GetInt64(2)));

    private static ApiKeyInfo ReadKey(SqliteDataReader reader) =>
        new(
            KeyId: reader.GetString(0),
            AccountId: reader.GetString(1),
            Prefix: reader.GetString(3),
            CreatedAt: SqliteTime.FromUnixMicroseconds(reader.GetInt64(4)),
            RevokedAt: reader.IsDBNull(5) ? null : SqliteTime.FromUnixMicroseconds(reader.GetInt64(5)));
}
