namespace MeterAgent.Ledger.Redis.Log;

/// <summary>
/// The shared log's Lua scripts. StackExchange.Redis sends each by its SHA once loaded. Every key a script touches is
/// passed in KEYS and carries the <c>{log}</c> hash tag, so each runs on one node of a cluster. Numbers that are Unix
/// microseconds stay below 2^53, so Lua's doubles hold them exactly.
/// </summary>
internal static class RedisLogScripts
{
    /// <summary>
    /// Ships one batch of a replica's local entries. KEYS: cursor, stream. ARGV: replica, from (the local index of the
    /// first entry), count, then per entry usage id, account, contract ('' for none), started_at, entry bytes.
    /// The batch must start at or before the stored cursor: what is below the cursor was shipped already (a retry after
    /// a timeout, a restart) and is skipped, so no entry is added twice. Returns {added, cursor}; {-1, cursor} when the
    /// batch starts beyond the cursor (the shipper resumes from the cursor).
    /// </summary>
    public const string Ship = """
        local cursor = tonumber(redis.call('GET', KEYS[1]) or '0')
        local from = tonumber(ARGV[2])
        local n = tonumber(ARGV[3])
        if from > cursor then return {-1, cursor} end
        local skip = cursor - from
        if skip >= n then return {0, cursor} end
        for i = skip, n - 1 do
          local b = 4 + i * 5
          redis.call('XADD', KEYS[2], '*', 'u', ARGV[b], 'a', ARGV[b + 1], 'c', ARGV[b + 2], 's', ARGV[b + 3],
            'e', ARGV[b + 4], 'r', ARGV[1], 'i', tostring(from + i))
        end
        redis.call('SET', KEYS[1], tostring(from + n))
        return {n - skip, from + n}
        """;

    /// <summary>
    /// Appends shipped entries to the log, as the lease holder. KEYS: fence, consumed, entries, ids, contracts, stream,
    /// then one per entry: its contract's sorted set (the contracts key for an entry without one). ARGV: token, the
    /// consumed id the holder read from, the last stream id of the batch, count, then per entry usage id, contract,
    /// started_at, entry bytes. Refuses a token that is not the latest (-1) and a batch not read from the stored
    /// consumed id (-2: another holder moved on); skips a usage id already in the log; records the consumed id and
    /// trims what the stream no longer needs, all at once. Returns {appended, size}.
    /// </summary>
    public const string Append = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, 0} end
        if (redis.call('GET', KEYS[2]) or '0-0') ~= ARGV[2] then return {-2, 0} end
        local n = tonumber(ARGV[4])
        local size = redis.call('LLEN', KEYS[3])
        local appended = 0
        for i = 0, n - 1 do
          local b = 5 + i * 4
          if redis.call('HSETNX', KEYS[4], ARGV[b], size) == 1 then
            redis.call('RPUSH', KEYS[3], ARGV[b + 3])
            if ARGV[b + 1] ~= '' then
              redis.call('SADD', KEYS[5], ARGV[b + 1])
              redis.call('ZADD', KEYS[7 + i], ARGV[b + 2], size)
            end
            size = size + 1
            appended = appended + 1
          end
        end
        redis.call('SET', KEYS[2], ARGV[3])
        redis.call('XTRIM', KEYS[6], 'MINID', ARGV[3])
        return {appended, size}
        """;

    /// <summary>
    /// Takes the lease if nobody holds it (or this replica held it before a restart). KEYS: lease, fence. ARGV: replica,
    /// ttl ms. Returns {token, holder}; token 0 while another replica holds it.
    /// </summary>
    public const string Acquire = """
        local holder = redis.call('GET', KEYS[1])
        if holder and string.sub(holder, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then return {0, holder} end
        local token = redis.call('INCR', KEYS[2])
        local value = ARGV[1] .. '|' .. token
        redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
        return {token, value}
        """;

    /// <summary>Extends the lease if it is still this holder's. KEYS: lease. ARGV: holder value, ttl ms. Returns 1 or 0.</summary>
    public const string Renew = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
        """;

    /// <summary>Gives the lease up if it is still this holder's. KEYS: lease. ARGV: holder value.</summary>
    public const string Release = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1])
        return 1
        """;

    /// <summary>
    /// Stores a published checkpoint, as the holder. KEYS: fence, checkpoint. ARGV: token, size, root, note. Refuses a
    /// stale token (-1), a smaller size (-2) and another root at the stored size (-3: a fork); the same checkpoint
    /// again changes nothing (0). Returns 1 when stored.
    /// </summary>
    public const string StoreCheckpoint = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
        local stored = redis.call('HMGET', KEYS[2], 'size', 'root')
        if stored[1] then
          local size = tonumber(stored[1])
          if tonumber(ARGV[2]) < size then return -2 end
          if tonumber(ARGV[2]) == size then
            if stored[2] == ARGV[3] then return 0 end
            return -3
          end
        end
        redis.call('HSET', KEYS[2], 'size', ARGV[2], 'root', ARGV[3], 'note', ARGV[4])
        return 1
        """;

    /// <summary>
    /// Appends statements, as the holder. KEYS: fence, last, stated-until, then per statement its hash and its
    /// interval's list. ARGV: token, count, then per statement sequence, contract, interval start, interval end,
    /// amends ('' for none), tree size, digest, created at, envelope. Every sequence must continue the chain: the whole
    /// write is refused otherwise ({-2, last}), and for a stale token ({-1, 0}). Returns {count, last}.
    /// </summary>
    public const string AppendStatements = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {-1, 0} end
        local last = tonumber(redis.call('GET', KEYS[2]) or '0')
        local n = tonumber(ARGV[2])
        for i = 0, n - 1 do
          if tonumber(ARGV[3 + i * 9]) ~= last + 1 + i then return {-2, last} end
        end
        for i = 0, n - 1 do
          local b = 3 + i * 9
          redis.call('HSET', KEYS[4 + i * 2], 'seq', ARGV[b], 'contract', ARGV[b + 1], 'start', ARGV[b + 2], 'end', ARGV[b + 3],
            'amends', ARGV[b + 4], 'size', ARGV[b + 5], 'digest', ARGV[b + 6], 'created', ARGV[b + 7], 'envelope', ARGV[b + 8])
          redis.call('RPUSH', KEYS[5 + i * 2], ARGV[b])
          local until_ = tonumber(redis.call('HGET', KEYS[3], ARGV[b + 1]) or '-1')
          if tonumber(ARGV[b + 3]) > until_ then redis.call('HSET', KEYS[3], ARGV[b + 1], ARGV[b + 3]) end
        end
        redis.call('SET', KEYS[2], tostring(last + n))
        return {n, last + n}
        """;
}
