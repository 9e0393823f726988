using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace MeterAgent.Ledger.Redis.RateLimits;

/// <summary>
/// The one script of rate limits, called by SHA (EVALSHA; EVAL once on a node that does not have it yet, which caches
/// it there). It does what <c>InProcessRateLimiter</c> and <c>TokenBucket</c> do in the embedded store, with the same
/// integer arithmetic (token-milliseconds, every value below 2^53 so Lua's doubles are exact): read the policies, drain
/// the account's and the key's buckets, and charge all of them or none, atomically across replicas.
/// </summary>
/// <remarks>
/// KEYS: policies, account buckets, key buckets (one hash tag). ARGV: mode (<c>a</c> acquire, <c>s</c> settle), key id,
/// now (unix ms, the caller's clock), token cost (settle: the correction, may be negative), request cost (settle: 0 or
/// −1), default tokens per minute, default requests per minute ('' for none).
/// Acquire returns <c>{0}</c> when no limit applies, else <c>{allowed, wait_ms (-1 none, -2 never fits), token limit,
/// remaining, reset_ms, request limit, remaining, reset_ms (-1 when that kind has no limit), refusal}</c>.
/// Settle returns <c>{1}</c>.
/// </remarks>
internal static class RateLimitScript
{
    public const string Source = """
        local SCALE = 60000
        local MAX = 4503599627370496
        local MAXTOKENS = math.floor(MAX / SCALE)
        local kid = ARGV[2]
        local now = tonumber(ARGV[3])
        local p = redis.call('HMGET', KEYS[1], 'set', 'tpm', 'rpm', 'k:' .. kid .. ':set', 'k:' .. kid .. ':tpm', 'k:' .. kid .. ':rpm')
        local atpm, arpm, ktpm, krpm
        if p[1] then atpm = tonumber(p[2]); arpm = tonumber(p[3]) else atpm = tonumber(ARGV[6]); arpm = tonumber(ARGV[7]) end
        if p[4] then ktpm = tonumber(p[5]); krpm = tonumber(p[6]) end
        local tcost = tonumber(ARGV[4])
        local rcost = tonumber(ARGV[5])
        local slots = {}
        local function add(key, lf, af, limit, cost, kind, label)
          if limit then slots[#slots + 1] = {key = key, lf = lf, af = af, limit = limit, cost = cost, kind = kind, label = label} end
        end
        add(KEYS[2], 'tl', 'ta', atpm, tcost, 't', 'tokens per minute of the account')
        add(KEYS[2], 'rl', 'ra', arpm, rcost, 'r', 'requests per minute of the account')
        add(KEYS[3], 'tl', 'ta', ktpm, tcost, 't', 'tokens per minute of the key')
        add(KEYS[3], 'rl', 'ra', krpm, rcost, 'r', 'requests per minute of the key')
        if #slots == 0 then return {0} end
        local function units(tokens)
          if tokens > MAXTOKENS then tokens = MAXTOKENS elseif tokens < -MAXTOKENS then tokens = -MAXTOKENS end
          return tokens * SCALE
        end
        local function ceildiv(v, d) if v <= 0 then return 0 end return math.floor((v - 1) / d) + 1 end
        for _, s in ipairs(slots) do
          local st = redis.call('HMGET', s.key, s.lf, s.af)
          local level = tonumber(st[1]) or 0
          local at = tonumber(st[2]) or 0
          if now > at then
            local elapsed = now - at
            at = now
            if elapsed >= math.floor((level + s.limit - 1) / s.limit) then level = 0 else level = level - elapsed * s.limit end
          end
          s.level = level
          s.at = at
        end
        local function store()
          local expiry = {}
          for _, s in ipairs(slots) do
            redis.call('HSET', s.key, s.lf, s.level, s.af, s.at)
            local ms = ceildiv(s.level, s.limit)
            if not expiry[s.key] or ms > expiry[s.key] then expiry[s.key] = ms end
          end
          for key, ms in pairs(expiry) do redis.call('PEXPIRE', key, ms + SCALE) end
        end
        local function clampadd(s, cost)
          local v = s.level + units(cost)
          if v < 0 then v = 0 elseif v > MAX then v = MAX end
          s.level = v
        end
        if ARGV[1] == 's' then
          for _, s in ipairs(slots) do if s.cost ~= 0 then clampadd(s, s.cost) end end
          store()
          return {1}
        end
        local allowed = 1
        local never = false
        local wait = 0
        local refusal = ''
        for _, s in ipairs(slots) do
          if s.level + units(s.cost) > s.limit * SCALE then
            if allowed == 1 then refusal = s.label end
            allowed = 0
            if s.cost > s.limit then never = true; refusal = s.label
            else
              local w = ceildiv(s.level + units(s.cost) - s.limit * SCALE, s.limit)
              if w > wait then wait = w end
            end
          end
        end
        if allowed == 1 then
          for _, s in ipairs(slots) do clampadd(s, s.cost) end
          store()
        end
        local out = {allowed, -1, -1, -1, -1, -1, -1, -1, refusal}
        if allowed == 0 then if never then out[2] = -2 else out[2] = wait end end
        for _, s in ipairs(slots) do
          local remaining = math.floor((s.limit * SCALE - s.level) / SCALE)
          if remaining < 0 then remaining = 0 end
          local reset = ceildiv(s.level, s.limit)
          local i = 3
          if s.kind == 'r' then i = 6 end
          if out[i] == -1 or remaining < out[i + 1] or (remaining == out[i + 1] and reset > out[i + 2]) then
            out[i] = s.limit; out[i + 1] = remaining; out[i + 2] = reset
          end
        end
        return out
        """;

    // SHA-1 is what names a script in Redis' script cache; nothing here relies on it for security.
#pragma warning disable CA5350
    private static readonly byte[] Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Source));
#pragma warning restore CA5350

    public static async Task<RedisResult> RunAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await database.ScriptEvaluateAsync(Sha1, keys, args);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // A node that never ran it (a restart, a failover, a new cluster node): EVAL runs it and caches it there.
            return await database.ScriptEvaluateAsync(Source, keys, args);
        }
    }
}
