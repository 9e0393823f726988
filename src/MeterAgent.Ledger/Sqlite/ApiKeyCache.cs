using System.Collections.Concurrent;
using MeterAgent.Ledger.Accounts;

namespace MeterAgent.Ledger.Sqlite;

/// <summary>
/// Keeps key lookups, found or not, for a short time so that authentication stays off SQLite on the hot path.
/// Entries are keyed by the secret's hash, never the secret. Misses are cached too, so a client retrying a wrong key
/// costs no query; the capacity bound keeps a flood of random keys from growing memory.
/// </summary>
internal sealed class ApiKeyCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly long _ttlTicks;
    private readonly int _capacity;
    private long _generation;

    public ApiKeyCache(TimeSpan ttl, int capacity, TimeProvider time)
    {
        _time = time;
        _ttlTicks = (long)(ttl.TotalSeconds * time.TimestampFrequency);
        _capacity = capacity;
    }

    public int Count => _entries.Count;

    /// <summary>Read before a database lookup and passed to <see cref="Set"/>: a revocation in between voids the result.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public bool TryGet(string hashHex, out ApiKeyInfo? info)
    {
        if (_entries.TryGetValue(hashHex, out var entry))
        {
            if (_time.GetTimestamp() < entry.ExpiresAt)
            {
                info = entry.Info;
                return true;
            }

            _entries.TryRemove(KeyValuePair.Create(hashHex, entry));
        }

        info = null;
        return false;
    }

    public void Set(string hashHex, ApiKeyInfo? info, long generation)
    {
        if (_ttlTicks <= 0)
        {
            return;
        }

        if (_entries.Count >= _capacity)
        {
            Trim();
        }

        _entries[hashHex] = new Entry(info, _time.GetTimestamp() + _ttlTicks);

        // A lookup that read the database before a revocation committed must not re-cache the revoked key.
        if (Generation != generation)
        {
            _entries.TryRemove(hashHex, out _);
        }
    }

    public void Evict(string hashHex)
    {
        Interlocked.Increment(ref _generation);
        _entries.TryRemove(hashHex, out _);
    }

    private void Trim()
    {
        var now = _time.GetTimestamp();
        foreach (var (key, entry) in _entries)
        {
            if (entry.ExpiresAt <= now)
            {
                _entries.TryRemove(KeyValuePair.Create(key, entry));
            }
        }

        // Still full of live entries (a flood of distinct keys): start over rather than track recency on the hot path.
        if (_entries.Count >= _capacity)
        {
            _entries.Clear();
        }
    }

    private sealed record Entry(ApiKeyInfo? Info, long ExpiresAt);
}
