namespace MeterAgent.Ledger.Redis;

/// <summary>
/// The Lua scripts, one a mutation: each runs atomically on the primary holding the account's slot, touches only keys
/// in that account's space, checks everything before its first write (Redis does not roll a failed script back), and
/// is idempotent by its id (reservation, delivery, key). docs/distributed.md describes what each reads and writes.
/// </summary>
internal static class LedgerScripts
{
    /// <summary>Helpers every script starts with.</summary>
    private const string Prelude = """
        -- ARGV[1]: the account's key space (prefix + {a:ID} + ':'); every key this script touches starts with it, so all of
        -- them are in KEYS[1]'s cluster slot. ARGV[2]: how long a resolved reservation is kept, in ms.
        local S = ARGV[1]
        local RETENTION = ARGV[2]
        -- Lua numbers are doubles: integers are exact up to 2^53 - 1, and the C# side refuses anything larger.
        local MAX = 9007199254740991

        -- An integer as Redis should store it (never 1e+15, never -0).
        local function num(x)
          if x == 0 then return '0' end
          return string.format('%.0f', x)
        end

        local function lotkey(id) return S .. 'lot:' .. id end
        local function reskey(id) return S .. 'res:' .. id end

        local function lot_reply(id)
          local h = redis.call('HMGET', lotkey(id), 'c', 'v', 'dl', 'de', 'av', 'pe', 're', 'ws', 'we', 'da')
          return { id, h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10] }
        end

        local function load_res(id)
          local h = redis.call('HMGET', reskey(id), 'c', 's', 'rv', 'po', 'ov', 'ca', 'ex', 'd', 'oh')
          if not h[2] then return nil end
          local r = { id = id, c = h[1], s = h[2], rv = tonumber(h[3]), po = tonumber(h[4]), ov = tonumber(h[5]),
                      ca = h[6], ex = h[7], draws = {}, oh = tonumber(h[9] or '0') }
          for lot, reserved, posted in string.gmatch(h[8], '([^,;]+),(%d+),(%d+)') do
            r.draws[#r.draws + 1] = { lot = lot, r = tonumber(reserved), p = tonumber(posted) }
          end
          return r
        end

        local function draws_text(draws)
          local parts = {}
          for i, d in ipairs(draws) do parts[i] = d.lot .. ',' .. num(d.r) .. ',' .. num(d.p) end
          return table.concat(parts, ';')
        end

        local function save_res(r)
          redis.call('HSET', reskey(r.id), 'c', r.c, 's', r.s, 'rv', num(r.rv), 'po', num(r.po), 'ov', num(r.ov),
                     'ca', r.ca, 'ex', r.ex, 'd', draws_text(r.draws), 'oh', num(r.oh or 0))
        end

        local function res_reply(r)
          return { r.s, r.c, num(r.rv), num(r.po), num(r.ov), r.ca, r.ex, draws_text(r.draws) }
        end

        -- The account's lots whose window is open at `at` and that hold something, in redemption order: earliest window
        -- end, then oldest delivery, then lot id.
        local function eligible(at)
          local ids = redis.call('ZRANGEBYSCORE', S .. 'lots', '(' .. num(at), '+inf')
          local lots = {}
          for _, id in ipairs(ids) do
            local h = redis.call('HMGET', lotkey(id), 'c', 'av', 'ws', 'we', 'da')
            local av = tonumber(h[2])
            if tonumber(h[3]) <= at and av > 0 then
              lots[#lots + 1] = { id = id, c = h[1], av = av, we = tonumber(h[4]), da = tonumber(h[5]) }
            end
          end
          table.sort(lots, function(a, b)
            if a.we ~= b.we then return a.we < b.we end
            if a.da ~= b.da then return a.da < b.da end
            return a.id < b.id
          end)
          return lots
        end

        local function check_overage(extra)
          local current = tonumber(redis.call('GET', S .. 'overage') or '0')
          if current + extra > MAX then
            error('amount out of range: the account overage would pass 2^53-1 micro-units')
          end
        end

        -- Redis does not roll a script back when it fails half way: every check comes before the first write.
        local function check_pending(r)
          local need = {}
          for _, d in ipairs(r.draws) do need[d.lot] = (need[d.lot] or 0) + d.r end
          for lot, amount in pairs(need) do
            local pe = tonumber(redis.call('HGET', lotkey(lot), 'pe'))
            if pe == nil or pe < amount then
              error('credit ledger inconsistency: lot ' .. lot .. ' does not hold the ' .. num(amount)
                    .. ' pending that reservation ' .. r.id .. ' drew')
            end
          end
        end

        -- A pending reservation leaving pending (posted, voided, expired) gives back the overage it was granted beyond its
        -- credits: the account's 'overage-held' counts only the requests in flight, for allow_up_to.
        local function unhold(r)
          if (r.oh or 0) > 0 then redis.call('DECRBY', S .. 'overage-held', num(r.oh)) end
          r.oh = 0
        end

        local function finish(r)
          save_res(r)
          redis.call('ZREM', S .. 'pending', r.id)
          redis.call('PEXPIRE', reskey(r.id), RETENTION)
        end

        -- Posts a pending reservation: each draw redeems up to what it reserved, in draw order; the rest goes back to
        -- available; whatever is beyond the reservation is the account's overage.
        local function post(r, actual)
          check_pending(r)
          local remaining, posted = actual, 0
          for _, d in ipairs(r.draws) do
            d.p = math.min(d.r, remaining)
            remaining = remaining - d.p
            posted = posted + d.p
          end
          local overage = actual - posted
          check_overage(overage)
          for _, d in ipairs(r.draws) do
            local k = lotkey(d.lot)
            redis.call('HINCRBY', k, 'pe', num(-d.r))
            if d.p > 0 then redis.call('HINCRBY', k, 're', num(d.p)) end
            if d.r > d.p then redis.call('HINCRBY', k, 'av', num(d.r - d.p)) end
          end
          if overage > 0 then redis.call('INCRBY', S .. 'overage', num(overage)) end
          unhold(r)
          r.s, r.po, r.ov = 'posted', posted, overage
          finish(r)
          return r
        end

        -- Releases everything a pending reservation holds (voided, or expired past its deadline).
        local function release(r, state)
          check_pending(r)
          for _, d in ipairs(r.draws) do
            local k = lotkey(d.lot)
            redis.call('HINCRBY', k, 'pe', num(-d.r))
            redis.call('HINCRBY', k, 'av', num(d.r))
            d.p = 0
          end
          unhold(r)
          r.s, r.po, r.ov = state, 0, 0
          finish(r)
          return r
        end

        -- An expired reservation posted anyway (the request outlived it): the actual amount is redeemed straight from what
        -- its contract's open lots hold at `at`; the rest is overage. The new draws follow the released ones.
        local function post_late(r, actual, at)
          local picks, drawn = {}, 0
          if string.sub(r.c, 1, 2) == 'c:' then
            local contract = string.sub(r.c, 3)
            for _, l in ipairs(eligible(at)) do
              if drawn >= actual then break end
              if l.c == contract then
                local a = math.min(l.av, actual - drawn)
                picks[#picks + 1] = { lot = l.id, r = a, p = a }
                drawn = drawn + a
              end
            end
          end
          local overage = actual - drawn
          check_overage(overage)
          for _, pk in ipairs(picks) do
            redis.call('HINCRBY', lotkey(pk.lot), 'av', num(-pk.r))
            redis.call('HINCRBY', lotkey(pk.lot), 're', num(pk.r))
            r.draws[#r.draws + 1] = pk
          end
          if overage > 0 then redis.call('INCRBY', S .. 'overage', num(overage)) end
          r.s, r.rv, r.po, r.ov = 'posted', r.rv + drawn, drawn, overage
          finish(r)
          return r
        end
        """;

    public static readonly RedisScript Reserve = new("reserve", Prelude + """

        -- ARGV: 3 reservation id, 4 now µs, 5 expires µs, 6 fallback contract ('c:ID' or '-'), 7 its estimate,
        -- 8 the forget token this call answers ('' for none), 9.. contract id, estimate pairs. Idempotent: a stored
        -- reservation is the first outcome, returned as it is.
        local id = ARGV[3]
        local existing = load_res(id)
        if existing then return { 'granted', unpack(res_reply(existing)) } end

        -- The expiry sweep forgot this account: nothing pending may be created until the caller has put the account back
        -- in the sweep's set after that forget, which it says by answering with the forget's token.
        local forgotten = redis.call('GET', S .. 'forgotten')
        if forgotten then
          if forgotten ~= ARGV[8] then return { 'unregistered', forgotten } end
          redis.call('DEL', S .. 'forgotten')
        end

        local now = tonumber(ARGV[4])
        local estimates = {}
        for i = 9, #ARGV, 2 do estimates[ARGV[i]] = tonumber(ARGV[i + 1]) end

        local lots = eligible(now)
        local contract, estimate, start = nil, 0, nil
        for i, l in ipairs(lots) do
          if estimates[l.c] then contract, estimate, start = l.c, estimates[l.c], i; break end
        end

        local picks, drawn = {}, 0
        if start then
          for j = start, #lots do
            if drawn >= estimate then break end
            local l = lots[j]
            if l.c == contract then
              local a = math.min(l.av, estimate - drawn)
              picks[#picks + 1] = { lot = l.id, r = a, p = 0 }
              drawn = drawn + a
            end
          end
          contract = 'c:' .. contract
        else
          -- No eligible lot: only the policy can serve it, counted under the cheapest estimate (chosen by the caller).
          contract, estimate = ARGV[6], tonumber(ARGV[7])
        end

        local shortfall = estimate - drawn
        if shortfall > 0 or not start then
          local policy = redis.call('HMGET', S .. 'policy', 'kind', 'limit')
          local kind = policy[1] or 'reject'
          if kind == 'allow_up_to' then
            -- The overage posted, and what the pending reservations were granted beyond their credits.
            local overage = tonumber(redis.call('GET', S .. 'overage') or '0')
              + tonumber(redis.call('GET', S .. 'overage-held') or '0')
            if math.max(shortfall, 0) > tonumber(policy[2]) - overage then return { 'refused', 'overage_limit_exceeded' } end
          elseif kind ~= 'allow' then
            return { 'refused', 'insufficient_quota' }
          end
        end

        for _, p in ipairs(picks) do
          redis.call('HINCRBY', lotkey(p.lot), 'av', num(-p.r))
          redis.call('HINCRBY', lotkey(p.lot), 'pe', num(p.r))
        end
        local held = math.max(shortfall, 0)
        if held > 0 then redis.call('INCRBY', S .. 'overage-held', num(held)) end
        local r = { id = id, c = contract, s = 'pending', rv = drawn, po = 0, ov = 0, ca = ARGV[4], ex = ARGV[5], draws = picks,
                    oh = held }
        save_res(r)
        redis.call('ZADD', S .. 'pending', ARGV[5], id)
        return { 'granted', unpack(res_reply(r)) }
        """);

    public static readonly RedisScript Settle = new("settle", Prelude + """

        -- ARGV: 3 reservation id, 4 'post' or 'void', 5 actual µ-units, 6 when a late post redeems (µs; '' = its deadline).
        -- Idempotent: only a pending reservation is resolved (or an expired one posted late, once); any other comes back as
        -- it is.
        local r = load_res(ARGV[3])
        if not r then return { 'notfound' } end
        if ARGV[4] == 'post' then
          local actual = tonumber(ARGV[5])
          if r.s == 'expired' and actual > 0 then
            local at = ARGV[6]
            if at == '' then at = r.ex end
            r = post_late(r, actual, tonumber(at))
          elseif r.s == 'pending' then
            r = post(r, actual)
          end
        elseif r.s == 'pending' then
          r = release(r, 'voided')
        end
        return { 'ok', unpack(res_reply(r)) }
        """);

    public static readonly RedisScript SettleLocal = new("settle-local", Prelude + """

        -- A reservation this replica granted locally while Redis was unreachable (fail_open), settled now.
        -- ARGV: 3 reservation id, 4 'post' or 'void', 5 actual µ-units, 6 when it redeems (µs), 7 contract ('c:ID' or '-'),
        -- 8 created µs, 9 expires µs. Idempotent by reservation id: once stored (by this script, or by a reserve whose answer
        -- was lost in the outage) the reservation is settled as the settle script would and otherwise returned as it is.
        local r = load_res(ARGV[3])
        local actual = tonumber(ARGV[5])
        if r then
          if ARGV[4] == 'post' then
            if r.s == 'expired' and actual > 0 then
              r = post_late(r, actual, tonumber(ARGV[6]))
            elseif r.s == 'pending' then
              r = post(r, actual)
            end
          elseif r.s == 'pending' then
            r = release(r, 'voided')
          end
          return { 'ok', unpack(res_reply(r)) }
        end
        -- Unknown: nothing was held for it in Redis. A post redeems the actual from what the contract's open lots hold at
        -- ARGV[6], in redemption order; the rest is overage, whatever the policy (the request was served). A void stores the
        -- reservation as voided, so a retry finds it.
        r = { id = ARGV[3], c = ARGV[7], s = 'expired', rv = 0, po = 0, ov = 0, ca = ARGV[8], ex = ARGV[9], draws = {} }
        if ARGV[4] == 'post' and actual > 0 then
          r = post_late(r, actual, tonumber(ARGV[6]))
        else
          if ARGV[4] == 'post' then r.s = 'posted' else r.s = 'voided' end
          finish(r)
        end
        return { 'ok', unpack(res_reply(r)) }
        """);

    public static readonly RedisScript Expire = new("expire", Prelude + """

        -- ARGV: 3 now µs, 4 most to release in one call. Releases the account's pending reservations whose deadline is at or
        -- before now. Returns { released, looked at, still pending }: the caller calls again while it looked at a full
        -- batch, and may forget an idle account with nothing still pending.
        local ids = redis.call('ZRANGEBYSCORE', S .. 'pending', '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
        local released = 0
        for _, id in ipairs(ids) do
          local r = load_res(id)
          if r and r.s == 'pending' then
            release(r, 'expired')
            released = released + 1
          else
            redis.call('ZREM', S .. 'pending', id)
          end
        end
        return { released, #ids, redis.call('ZCARD', S .. 'pending') }
        """);

    /// <summary>
    /// On the account, after the sweep removed it from its set: marks it forgotten unless something is pending (see
    /// <c>RedisCreditLedger.SweepAccountAsync</c>).
    /// </summary>
    public static readonly RedisScript MarkForgotten = new("mark-forgotten", Prelude + """

        -- ARGV: 3 a new token. Run by the sweep after it removed the account from its set: marks the account forgotten
        -- (a reserve then grants nothing until its caller has added the account back), unless something is pending, which
        -- a reserve made since the sweep looked; then 0, and the sweep adds the account back itself.
        if redis.call('ZCARD', S .. 'pending') > 0 then return 0 end
        redis.call('SET', S .. 'forgotten', ARGV[3])
        return 1
        """);

    /// <summary>
    /// On the sweep's set of accounts (a global key, no prelude): removes the account only if its latest reserve is still
    /// at or before the cut-off, so a reserve that came in since the sweep read the set keeps it.
    /// </summary>
    public static readonly RedisScript ForgetIdleAccount = new("forget-idle-account", """
        -- KEYS[1]: the sweep's sorted set of accounts. ARGV: 1 account id, 2 cut-off µs.
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if score and tonumber(score) <= tonumber(ARGV[2]) then
          return redis.call('ZREM', KEYS[1], ARGV[1])
        end
        return 0
        """);

    public static readonly RedisScript Renew = new("renew", Prelude + """

        -- ARGV: 3 new deadline µs, 4.. reservation ids. Moves the deadline of those still pending (never earlier).
        local renewed = 0
        local expires = tonumber(ARGV[3])
        for i = 4, #ARGV do
          local k = reskey(ARGV[i])
          local h = redis.call('HMGET', k, 's', 'ex')
          if h[1] == 'pending' and tonumber(h[2]) < expires then
            redis.call('HSET', k, 'ex', ARGV[3])
            redis.call('ZADD', S .. 'pending', ARGV[3], ARGV[i])
            renewed = renewed + 1
          end
        end
        return renewed
        """);

    public static readonly RedisScript Deliver = new("deliver", Prelude + """

        -- ARGV: 3 delivery id, 4 payload digest, 5 new lot id, 6 contract, 7 version, 8 quantity, 9 window start µs,
        -- 10 window end µs, 11 now µs. Idempotent by delivery id: the same digest again is a replay, another a conflict.
        local seen = redis.call('HGET', S .. 'deliveries', ARGV[3])
        if seen then
          local bar = string.find(seen, '|', 1, true)
          local digest, lot = string.sub(seen, 1, bar - 1), string.sub(seen, bar + 1)
          local kind = 'conflict'
          if string.lower(digest) == string.lower(ARGV[4]) then kind = 'replayed' end
          return { kind, unpack(lot_reply(lot)) }
        end
        if redis.call('EXISTS', S .. 'account') == 0 then return { 'unknown' } end
        redis.call('HSET', lotkey(ARGV[5]), 'c', ARGV[6], 'v', ARGV[7], 'dl', ARGV[3], 'de', ARGV[8], 'av', ARGV[8],
                   'pe', '0', 're', '0', 'ws', ARGV[9], 'we', ARGV[10], 'da', ARGV[11])
        redis.call('ZADD', S .. 'lots', ARGV[10], ARGV[5])
        redis.call('HSET', S .. 'deliveries', ARGV[3], ARGV[4] .. '|' .. ARGV[5])
        return { 'applied', unpack(lot_reply(ARGV[5])) }
        """);

    public static readonly RedisScript Correct = new("correct", Prelude + """

        -- ARGV: 3 lot id, 4 delta, 5 reason, 6 at µs. Refused when the lot's available amount would go negative.
        local k = lotkey(ARGV[3])
        local h = redis.call('HMGET', k, 'de', 'av')
        if not h[1] then return { 'notfound' } end
        local delta = tonumber(ARGV[4])
        if tonumber(h[2]) + delta < 0 then return { 'refused' } end
        if tonumber(h[1]) + delta > MAX then error('amount out of range: the lot would hold more than 2^53-1 micro-units') end
        redis.call('HINCRBY', k, 'de', ARGV[4])
        redis.call('HINCRBY', k, 'av', ARGV[4])
        redis.call('RPUSH', S .. 'corrections:' .. ARGV[3], ARGV[4] .. '|' .. ARGV[6] .. '|' .. ARGV[5])
        return { 'corrected', unpack(lot_reply(ARGV[3])) }
        """);

    public static readonly RedisScript SetPolicy = new("set-policy", Prelude + """

        -- ARGV: 3 kind, 4 limit. Refused for an unknown account.
        if redis.call('EXISTS', S .. 'account') == 0 then return { 'notfound' } end
        redis.call('HSET', S .. 'policy', 'kind', ARGV[3], 'limit', ARGV[4])
        return { 'ok' }
        """);

    public static readonly RedisScript ReadLots = new("read-lots", Prelude + """

        -- Every lot of the account, read at one instant: 11 fields a lot.
        local out = {}
        for _, id in ipairs(redis.call('ZRANGE', S .. 'lots', 0, -1)) do
          for _, v in ipairs(lot_reply(id)) do out[#out + 1] = v end
        end
        return out
        """);

    public static readonly RedisScript ReadPending = new("read-pending", Prelude + """

        -- ARGV: 3 most to return. The account's pending reservations, oldest first (created µs, then id), read at one
        -- instant: 9 fields each (id, then the reservation's 8). The set holds only the requests in flight; it is scored by
        -- deadline, which a renewal moves, so creation order is sorted here.
        local rows = {}
        for _, id in ipairs(redis.call('ZRANGE', S .. 'pending', 0, -1)) do
          local r = load_res(id)
          if r and r.s == 'pending' then rows[#rows + 1] = r end
        end
        table.sort(rows, function(a, b)
          local ca, cb = tonumber(a.ca), tonumber(b.ca)
          if ca ~= cb then return ca < cb end
          return a.id < b.id
        end)
        local out = {}
        for i = 1, math.min(#rows, tonumber(ARGV[3])) do
          out[#out + 1] = rows[i].id
          for _, v in ipairs(res_reply(rows[i])) do out[#out + 1] = v end
        end
        return out
        """);

    public static readonly RedisScript IssueKey = new("issue-key", Prelude + """

        -- ARGV: 3 key id, 4 stored key ('sha256hex|prefix|created µs|'). 0 when the account does not exist.
        if redis.call('EXISTS', S .. 'account') == 0 then return 0 end
        redis.call('HSET', S .. 'keys', ARGV[3], ARGV[4])
        return 1
        """);

    public static readonly RedisScript RevokeKey = new("revoke-key", Prelude + """

        -- ARGV: 3 key id, 4 now µs. Keeps the first revocation time; nil when the account has no such key.
        local v = redis.call('HGET', S .. 'keys', ARGV[3])
        if not v then return false end
        if string.sub(v, -1) == '|' then
          v = v .. ARGV[4]
          redis.call('HSET', S .. 'keys', ARGV[3], v)
        end
        return v
        """);
}
