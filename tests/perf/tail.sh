#!/usr/bin/env bash
# Where the c=1 tail comes from: every request's latency, timed by wrk itself (a LuaJIT clock at send and at the
# response), for the agent alone after a warm-up, then the percentiles, how many requests were slower than a threshold,
# and when in each second they fell (a periodic source, a timer every 100 ms say, shows as a pattern in the 50 ms buckets).
#
#   tests/perf/tail.sh CHECKOUT [SECONDS] [THRESHOLD_US]        (defaults: 10 s, 1500 µs)
#
# Builds and starts the agent and the emulator of CHECKOUT as counts.sh does (tests/perf/standup.sh; AGENT_ARGS adds
# settings), warms up 20 s at c=32 and 5 s at c=1, then runs wrk at c=1 for SECONDS. Compare two commits by running it
# for each, alternating, several times: one run's count of slow requests moves by ±30% on a shared machine.
# Needs: dotnet, wrk, python3.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 CHECKOUT [SECONDS] [THRESHOLD_US]" >&2; exit 2; }
for t in dotnet wrk python3 curl; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
SRC=$(cd "$1" && pwd); SECONDS_RUN=${2:-10}; THRESHOLD=${3:-1500}
. "$(dirname "$0")/standup.sh"

wrk -t1 -c32 -d20s -s "$W/req.lua" "$URL" >/dev/null
wrk -t1 -c1 -d5s -s "$W/req.lua" "$URL" >/dev/null
cat "$W/req.lua" - >"$W/tail.lua" <<'LUA'
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } timespec; int clock_gettime(int, timespec*); ]]
local ts = ffi.new("timespec")
local function now() ffi.C.clock_gettime(1, ts); return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3 end
local sent, n, out = 0, 0, nil
request = function() sent = now(); return wrk.format() end
response = function()
  local t = now(); n = n + 1
  out = out or io.open(os.getenv("TAIL_OUT"), "w")
  out:write(string.format("%.0f %.0f\n", t, t - sent))
  if n % 500 == 0 then out:flush() end
end
LUA
TAIL_OUT="$W/latencies" wrk -t1 -c1 -d"${SECONDS_RUN}s" -s "$W/tail.lua" "$URL" >/dev/null
python3 - "$W/latencies" "$THRESHOLD" "$(basename "$SRC")" <<'PY'
import sys, collections
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
threshold, lat = float(sys.argv[2]), sorted(r[1] for r in rows)
n = len(lat); q = lambda p: lat[min(n - 1, int(n * p))]
print(f"{sys.argv[3]}: {n} requests at c=1; latency µs p50 {q(.5):.0f} p90 {q(.9):.0f} p99 {q(.99):.0f} p99.9 {q(.999):.0f} max {lat[-1]:.0f}")
t0 = rows[0][0]; slow = [r[0] - t0 for r in rows if r[1] > threshold]
buckets = collections.Counter(int((t % 1e6) // 50000) for t in slow)
print(f"slower than {threshold:.0f} µs: {len(slow)}; by 50 ms of the second: {' '.join(str(buckets.get(i, 0)) for i in range(20))}")
PY
