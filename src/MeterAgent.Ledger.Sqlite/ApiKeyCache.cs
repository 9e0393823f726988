using System.Collections.Concurrent;
using MeterAgent.Ledger.Accounts;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Keeps key lookups, found or not, for a short time so that authentication stays off SQLite on the hot path.
/// Entries are keyed by the secret's hash, never the secret. Misses are cached too, so a client retrying a wrong key
/// costs no query; they are kept apart from the keys found, each side bounded by the capacity, so a flood of random
/// well-formed keys fills (and clears) only the misses and never evicts the keys real clients use.
/// </summary>
internal sealed class ApiKeyCache
{
    private readonly ConcurrentDictionary<string, Entry> _found = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry> _missing = new(StringComparer.Ordinal);

    // Looked up by the hash's hex in a span, so a request whose key is cached makes no string of it.
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _foundBySpan;
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _missingBySpan;
    private readonly TimeProvider _time;
    private readonly long _ttlTicks;
    private readonly int _capacity;
    private long _generation;

    public ApiKeyCache(TimeSpan ttl, int capacity, TimeProvider time)
    {
        _time = time;
        _ttlTicks = (long)(ttl.TotalSeconds * time.TimestampFrequency);
        _capacity = capacity;
        _foundBySpan = _found.GetAlternateLookup<ReadOnlySpan<char>>();
        _missingBySpan = _missing.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _found.Count + _missing.Count;

    /// <summary>Read before a database lookup and passed to <see cref="Set"/>: a revocation in between voids the result.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>
    /// Authentication from the cache alone, allocating nothing: true with the answer when the cache holds the presented
    /// key's hash (null: no valid key) or when the text cannot be a key at all (null); false when the store must look.
    /// </summary>
    public bool TryAuthenticate(ReadOnlySpan<char> presentedKey, out ApiKeyInfo? info)
    {
        Span<byte> hash = stackalloc byte[System.Security.Cryptography.SHA256.HashSizeInBytes];
        Span<char> hex = stackalloc char[ApiKeySecrets.HashHexLength];
        return TryAuthenticate(presentedKey, hash, hex, out info);
    }

    /// <summary>
    /// <see cref="TryAuthenticate(ReadOnlySpan{char}, out ApiKeyInfo?)"/>, leaving the key's SHA-256 in
    /// <paramref name="hash"/> and its hex in <paramref name="hex"/> (<see cref="ApiKeySecrets.HashHexLength"/>) for the
    /// store's look-up when it returns false.
    /// </summary>
    public bool TryAuthenticate(ReadOnlySpan<char> presentedKey, Span<byte> hash, Span<char> hex, out ApiKeyInfo? info)
    {
        info = null;
        if (presentedKey.IsEmpty || !ApiKeySecrets.HasSecretShape(presentedKey))
        {
            return true;
        }

        ApiKeySecrets.Hash(presentedKey, hash, hex);
        return TryGet(hex, out info);
    }

    public bool TryGet(ReadOnlySpan<char> hashHex, out ApiKeyInfo? info) =>
        TryGet(_foundBySpan, hashHex, out info) || TryGet(_missingBySpan, hashHex, out info);

    public void Set(string hashHex, ApiKeyInfo? info, long generation)
    {
        if (_ttlTicks <= 0)
        {
            return;
        }

        var entries = info is null ? _missing : _found;
        if (entries.Count >= _capacity)
        {
            Trim(entries);
        }

        entries[hashHex] = new Entry(info, _time.GetTimestamp() + _ttlTicks);

        // A lookup that read the database before a revocation committed must not re-cache the revoked key.
        if (Generation != generation)
        {
            entries.TryRemove(hashHex, out _);
        }
    }

    public void Evict(string hashHex)
    {
        Interlocked.Increment(ref _generation);
        _found.TryRemove(hashHex, out _);
        _missing.TryRemove(hashHex, out _);
    }

    private bool TryGet(
        ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> entries, ReadOnlySpan<char> hashHex, out ApiKeyInfo? info)
    {
        if (entries.TryGetValue(hashHex, out var key, out var entry))
        {
            if (_time.GetTimestamp() < entry.ExpiresAt)
            {
                info = entry.Info;
                return true;
            }

            entries.Dictionary.TryRemove(KeyValuePair.Create(key, entry));
        }

        info = null;
        return false;
    }

    private void Trim(ConcurrentDictionary<string, Entry> entries)
    {
        var now = _time.GetTimestamp();
        foreach (var (key, entry) in entries)
        {
            if (entry.ExpiresAt <= now)
            {
                entries.TryRemove(KeyValuePair.Create(key, entry));
            }
        }

        // Still full of live entries (a flood of distinct keys): start that side over rather than track recency on the hot path.
        if (entries.Count >= _capacity)
        {
            entries.Clear();
        }
    }

    private sealed record Entry(ApiKeyInfo? Info, long ExpiresAt);
}
