#!/usr/bin/env bash
# Where a request's bytes go: the agent's allocations per request, by type and by the first MeterAgent method on the
# stack, while wrk drives small non-streaming requests (docs/benchmarks.md, "Allocation by type and site").
#
#   tests/perf/allocs.sh CHECKOUT [CONCURRENCY] [SECONDS]        (defaults: 32 10)
#
# Builds and starts the agent and the emulator of CHECKOUT as counts.sh does, warms up for 8 s, then records SECONDS of
# `dotnet-trace collect --profile gc-verbose` under wrk and sums its allocation samples (the benchmarks' --alloc-sites)
# over the requests the agent served meanwhile (its meteragent_requests_total). Sampled (one event per ~100 KB a
# thread allocates): compare types of a few tens of bytes per request and up, and commits run the same way.
# Needs: dotnet, dotnet-trace (dotnet tool install -g dotnet-trace), wrk (apt-get install wrk), python3, curl.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 CHECKOUT [CONCURRENCY] [SECONDS]" >&2; exit 2; }
TRACE_TOOL=$(command -v dotnet-trace || echo "$HOME/.dotnet/tools/dotnet-trace")
[ -x "$TRACE_TOOL" ] || { echo "missing dotnet-trace: dotnet tool install -g dotnet-trace" >&2; exit 1; }
for t in dotnet wrk python3 curl; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
SRC=$(cd "$1" && pwd); C=${2:-32}; SECONDS_TRACED=${3:-10}
. "$(dirname "$0")/standup.sh"
dotnet build -c Release "$SRC/tests/MeterAgent.Benchmarks" -o "$W/bench" >>"$W/build.log" 2>&1 || { cat "$W/build.log"; exit 1; }

wrk -t1 -c32 -d8s -s "$W/req.lua" "$URL" >/dev/null
wrk -t1 -c"$C" -d$((SECONDS_TRACED + 6))s -s "$W/req.lua" "$URL" >"$W/wrk.out" &
WRK=$!
sleep 1
before=$(served)
"$TRACE_TOOL" collect -p "$AGENT" --profile gc-verbose --duration "$(printf '00:00:%02d:%02d' $((SECONDS_TRACED / 60)) $((SECONDS_TRACED % 60)))" -o "$W/allocs.nettrace" >"$W/trace.log" 2>&1 \
  || { cat "$W/trace.log" >&2; exit 1; }
after=$(served)
wait $WRK
echo "$(basename "$SRC"), c=$C: $(awk '/Requests\/sec/ {print $2}' "$W/wrk.out") req/s under wrk"
dotnet "$W/bench/MeterAgent.Benchmarks.dll" --alloc-sites "$W/allocs.nettrace" $((after - before))
