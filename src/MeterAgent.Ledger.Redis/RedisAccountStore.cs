using System.Security.Cryptography;
using MeterAgent.Ledger.Accounts;
using MeterAgent.Ledger.Availability;
using MeterAgent.Ledger.Sqlite;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis;

/// <summary>
/// Accounts and their client keys in Redis, shared by every replica. As in the embedded store only the SHA-256 of a
/// key and a display prefix are kept; the secret leaves this class once, in <see cref="IssuedKey"/>. A key's record
/// lives in its account's hash (<see cref="RedisKeys.Keys"/>), which is the truth about revocation; a global index from
/// the key's hash to its account finds it, so lookups work on Redis Cluster with single-slot commands only.
/// </summary>
/// <remarks>
/// Authentication is answered from a per-replica <see cref="ApiKeyCache"/> (TTL <c>Redis:KeyCacheTtl</c>, bounded by
/// <c>Redis:KeyCacheCapacity</c>). A revocation evicts the key at once on the replica that revoked it; every other
/// replica keeps accepting the key until its cached lookup expires, so a revoked key is refused everywhere within
/// <c>Redis:KeyCacheTtl</c> (default 5 s) of the revocation. A cache miss costs two round trips (index, then the
/// account's key record).
/// </remarks>
public sealed class RedisAccountStore : IAccountStore
{
    private readonly RedisConnection _redis;
    private readonly TimeProvider _time;
    private readonly ApiKeyCache _cache;
    private long _redisLookups;

    /// <summary>Whether Redis is reachable: a lookup while it is not fails at once (set by the DI registration).</summary>
    public IStoreAvailability? Availability { get; init; }

    public RedisAccountStore(RedisConnection redis, TimeProvider time, TimeSpan keyCacheTtl, int keyCacheCapacity)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(time);
        _redis = redis;
        _time = time;
        _cache = new ApiKeyCache(keyCacheTtl, keyCacheCapacity, time);
    }

    /// <summary>Lookups that reached Redis (cache misses); tests use it to see the cache work.</summary>
    internal long RedisLookups => Interlocked.Read(ref _redisLookups);

    private RedisKeys Keys => _redis.Keys;

    private IDatabase Db => _redis.Database;

    public async Task<Account> CreateAccountAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        cancellationToken.ThrowIfCancellationRequested();

        var account = new Account(ApiKeySecrets.NewAccountId(), name, Now());
        var created = SqliteTime.ToUnixMicroseconds(account.CreatedAt);

        // Two slots (the account's, the global list's), so two commands sent together; the call returns once both are
        // done. The account hash is the truth: the list is only for listing and the sweeps, and skips ids with no hash.
        await Task.WhenAll(
            Db.HashSetAsync(Keys.Account(account.Id), [new("id", account.Id), new("name", account.Name), new("created", created)]),
            Db.SortedSetAddAsync(Keys.Accounts, account.Id, created));
        return account;
    }

    public async Task<Account?> GetAccountAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();
        return ReadAccount(accountId, await Db.HashGetAsync(Keys.Account(accountId), ["name", "created"]));
    }

    public async Task<IReadOnlyList<Account>> ListAccountsAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // By creation time, then id: the sorted set's own order (equal scores sort by member).
        var ids = await Db.SortedSetRangeByRankAsync(Keys.Accounts);
        var reads = ids.Select(id => Db.HashGetAsync(Keys.Account(id!), ["name", "created"])).ToArray();
        var values = await Task.WhenAll(reads);
        var accounts = new List<Account>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            if (ReadAccount(ids[i]!, values[i]) is { } account)
            {
                accounts.Add(account);
            }
        }

        return accounts;
    }

    public async Task<IssuedKey?> IssueKeyAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();

        var secret = ApiKeySecrets.NewSecret();
        var info = new ApiKeyInfo(ApiKeySecrets.NewKeyId(), accountId, ApiKeySecrets.DisplayPrefix(secret), Now(), RevokedAt: null);
        var hashHex = ApiKeySecrets.HashHex(secret);
        var stored = $"{hashHex}|{info.Prefix}|{RedisAmounts.Text(SqliteTime.ToUnixMicroseconds(info.CreatedAt))}|";

        // The account's script checks it exists and records the key; only then the indexes, so a key is never findable
        // for an account that does not exist. A crash in between leaves a key no one holds (the secret was not returned).
        var issued = (int)await _redis.EvaluateAsync(LedgerScripts.IssueKey, Keys.Account(accountId), [Keys.AccountSpace(accountId), 0, info.KeyId, stored]);
        if (issued != 1)
        {
            return null;
        }

        await Task.WhenAll(
            Db.StringSetAsync(Keys.KeyHash(hashHex), accountId + " " + info.KeyId),
            Db.StringSetAsync(Keys.KeyId(info.KeyId), accountId));
        return new IssuedKey(info, secret);
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync(string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accountId);
        cancellationToken.ThrowIfCancellationRequested();
        var entries = await Db.HashGetAllAsync(Keys.Keys(accountId));
        var keys = entries.Select(e => ReadKey((string)e.Name!, accountId, (string)e.Value!).Info).ToList();
        keys.Sort((a, b) =>
        {
            var byCreated = a.CreatedAt.CompareTo(b.CreatedAt);
            return byCreated != 0 ? byCreated : string.CompareOrdinal(a.KeyId, b.KeyId);
        });
        return keys;
    }

    public async Task<bool> RevokeKeyAsync(string keyId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyId);
        cancellationToken.ThrowIfCancellationRequested();

        var accountId = (string?)await Db.StringGetAsync(Keys.KeyId(keyId));
        if (accountId is null)
        {
            return false;
        }

        var now = RedisAmounts.Text(SqliteTime.ToUnixMicroseconds(Now()));
        var stored = await _redis.EvaluateAsync(LedgerScripts.RevokeKey, Keys.Account(accountId), [Keys.AccountSpace(accountId), 0, keyId, now]);
        if (stored.IsNull)
        {
            return false;
        }

        // After Redis has it: a lookup on this replica from now on misses the cache and reads the revocation. Other
        // replicas see it when their cached lookup expires (Redis:KeyCacheTtl).
        _cache.Evict(ReadKey(keyId, accountId, stored.ToString()).HashHex);
        return true;
    }

    public bool TryAuthenticateCached(ReadOnlySpan<char> presentedKey, out ApiKeyInfo? key) => _cache.TryAuthenticate(presentedKey, out key);

    public async ValueTask<ApiKeyInfo?> AuthenticateAsync(string presentedKey, CancellationToken cancellationToken = default)
    {
        // A cached key (nearly every request) is found with nothing allocated, as in the embedded store.
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Span<char> hex = stackalloc char[ApiKeySecrets.HashHexLength];
        if (_cache.TryAuthenticate(presentedKey, hash, hex, out var cached))
        {
            return cached;
        }

        cancellationToken.ThrowIfCancellationRequested();

        // Not cached and Redis known down: fail now rather than wait out the multiplexer's backlog timeout.
        RedisUnavailable.ThrowIfDown(Availability);
        var hashHex = new string(hex);
        var presentedHash = hash.ToArray();
        var generation = _cache.Generation;
        var info = await LookupAsync(hashHex, presentedHash);
        _cache.Set(hashHex, info, generation);
        return info;
    }

    private async Task<ApiKeyInfo?> LookupAsync(string hashHex, byte[] presentedHash)
    {
        Interlocked.Increment(ref _redisLookups);
        var indexed = (string?)await Db.StringGetAsync(Keys.KeyHash(hashHex));
        var space = indexed?.IndexOf(' ', StringComparison.Ordinal) ?? -1;
        if (space < 0)
        {
            return null;
        }

        var accountId = indexed![..space];
        var keyId = indexed[(space + 1)..];
        var stored = (string?)await Db.HashGetAsync(Keys.Keys(accountId), keyId);
        if (stored is null)
        {
            return null;
        }

        var (info, storedHex) = ReadKey(keyId, accountId, stored);

        // The index already matched; the constant-time compare is defence in depth, as in the embedded store.
        var storedHash = new byte[SHA256.HashSizeInBytes];
        if (Convert.FromHexString(storedHex, storedHash, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != storedHash.Length
            || !CryptographicOperations.FixedTimeEquals(storedHash, presentedHash))
        {
            return null;
        }

        return info.RevokedAt is null ? info : null;
    }

    private DateTimeOffset Now() => SqliteTime.FromUnixMicroseconds(SqliteTime.ToUnixMicroseconds(_time.GetUtcNow()));

    private static Account? ReadAccount(string accountId, RedisValue[] values) =>
        values[0].IsNull ? null : new Account(accountId, values[0]!, SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(values[1])));

    /// <summary>A key as stored in its account's hash: <c>sha256hex|display prefix|created µs|revoked µs or empty</c>.</summary>
    private static (ApiKeyInfo Info, string HashHex) ReadKey(string keyId, string accountId, string stored)
    {
        var parts = stored.Split('|');
        var info = new ApiKeyInfo(
            keyId,
            accountId,
            parts[1],
            SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(parts[2])),
            parts[3].Length == 0 ? null : SqliteTime.FromUnixMicroseconds(RedisAmounts.Parse(parts[3])));
        return (info, parts[0]);
    }
}
