#!/usr/bin/env bash
# The agent's latency distribution once warm: 20 s of wrk at c=32 (past the JIT's warm-up, docs/benchmarks.md), then
# WINDOWS windows of 8 s at CONCURRENCY, each printing its requests and p50 to p99.9 (wrk's own histogram).
# Settings to compare go in AGENT_ARGS, e.g.
#
#   AGENT_ARGS=--Store:CloseGatherTime=00:00:00.002 tests/perf/latency.sh CHECKOUT 32
#
#   tests/perf/latency.sh CHECKOUT [CONCURRENCY] [WINDOWS]        (defaults: 1 3)
#
# Builds and starts the agent and the emulator of CHECKOUT as counts.sh does. Needs: dotnet, wrk, python3, curl.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 CHECKOUT [CONCURRENCY] [WINDOWS]" >&2; exit 2; }
for t in dotnet wrk python3 curl; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
SRC=$(cd "$1" && pwd); C=${2:-1}; N=${3:-3}
. "$(dirname "$0")/standup.sh"

cat "$W/req.lua" - >"$W/pct.lua" <<'LUA'
done = function(summary, latency, requests)
  local s = ""
  for _, p in ipairs({50, 90, 95, 97, 98, 99, 99.5, 99.9}) do
    s = s .. string.format(" p%s %.2f", p, latency:percentile(p) / 1000)
  end
  io.write(string.format("%d requests in 8 s, ms:%s\n", summary.requests, s))
end
LUA
wrk -t1 -c32 -d20s -s "$W/req.lua" "$URL" >/dev/null
echo "$(basename "$SRC") c=$C ${AGENT_ARGS:-}"
for _ in $(seq "$N"); do
  wrk -t1 -c"$C" -d8s -s "$W/pct.lua" "$URL" | tail -1
done
