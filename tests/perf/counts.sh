#!/usr/bin/env bash
# Counts per request that do not depend on a shared machine's noise, for the agent under wrk: thread-pool work items
# (hand-offs), system calls, context switches and CPU, from `perf stat` on the agent's process while wrk drives small non-streaming requests.
#
#   tests/perf/counts.sh CHECKOUT [CONCURRENCY...]        (default concurrency: 1 32)
#
# Builds the agent and the emulator of CHECKOUT (a clone or a `git archive` of a commit) into a temp folder, starts both
# on loopback (ports 18801-18803, or COUNTS_PORT_BASE+1..3), creates an account and a key, warms up for 6 s at c=32,
# then measures 6 s at each concurrency. Compare two commits by running it for each, alternating (docs/benchmarks.md).
# Needs: dotnet, wrk, perf (Debian: apt-get install wrk linux-perf), python3; root or perf_event_paranoid <= 1.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 CHECKOUT [CONCURRENCY...]" >&2; exit 2; }
for t in dotnet wrk perf python3 curl; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
SRC=$(cd "$1" && pwd); shift
LEVELS=${*:-1 32}
BASE=${COUNTS_PORT_BASE:-18800}
PE=$((BASE + 1)); PA=$((BASE + 2)); PM=$((BASE + 3))
W=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

dotnet build -c Release "$SRC/src/MeterAgent" -o "$W/agent" >"$W/build.log" 2>&1 || { cat "$W/build.log"; exit 1; }
dotnet build -c Release "$SRC/src/MeterAgent.Emulator" -o "$W/emu" >>"$W/build.log" 2>&1 || { cat "$W/build.log"; exit 1; }

UP=upstream-key-0123456789; ADM=admin-token-0123456789abcdef
(cd "$W/emu" && exec dotnet MeterAgent.Emulator.dll --urls "http://127.0.0.1:$PE" --Emulator:RequiredApiKey=$UP >"$W/emu.log" 2>&1) &
PIDS+=($!)
(cd "$W/agent" && exec dotnet MeterAgent.dll --MeterAgent:ProxyPort=$PA --MeterAgent:ManagementPort=$PM --MeterAgent:AdminToken=$ADM \
  --Store:Path="$W/agent.db" --MeterAgent:Upstreams:openai:ApiKey=$UP \
  --ReverseProxy:Clusters:openai:Destinations:primary:Address="http://127.0.0.1:$PE/" --Logging:LogLevel:Default=Warning >"$W/agent.log" 2>&1) &
AGENT=$!; PIDS+=($AGENT)
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PM/healthz/ready" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$PM/healthz/ready" >/dev/null || { echo "the agent did not become ready:" >&2; tail "$W/agent.log" >&2; exit 1; }

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('$1') or d.get('${2:-$1}'))"; }
ACCOUNT=$(curl -sf -XPOST "http://127.0.0.1:$PM/admin/accounts" -H "Authorization: Bearer $ADM" -H 'content-type: application/json' -d '{"name":"counts"}' | json id)
KEY=$(curl -sf -XPOST "http://127.0.0.1:$PM/admin/accounts/$ACCOUNT/keys" -H "Authorization: Bearer $ADM" | json key secret)
BODY='{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the plot of Hamlet in two sentences, please."}]}'
printf 'wrk.method="POST"; wrk.body=%s; wrk.headers["Content-Type"]="application/json"; wrk.headers["Authorization"]="Bearer %s"\n' "'$BODY'" "$KEY" >"$W/req.lua"
URL="http://127.0.0.1:$PA/v1/chat/completions"

# Thread-pool work items the agent completed (its management port's /metrics), for hand-offs per request.
workitems() { curl -sf "http://127.0.0.1:$PM/metrics" | awk '/^system_runtime_dotnet_thread_pool_work_item_count / {print $2}'; }

wrk -t1 -c32 -d6s -s "$W/req.lua" "$URL" >/dev/null
echo "$(basename "$SRC"): per request (perf stat on the agent, 6 s under wrk)"
for c in $LEVELS; do
  wrk -t1 -c"$c" -d8s -s "$W/req.lua" "$URL" >"$W/wrk.out" &
  WRK=$!
  sleep 1
  wi0=$(workitems)
  perf stat -e 'syscalls:sys_enter_futex,syscalls:sys_enter_sched_yield,syscalls:sys_enter_pwrite64,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,context-switches,task-clock' \
    -p $AGENT -o "$W/stat.out" -- sleep 6
  wi1=$(workitems)
  wait $WRK
  rps=$(awk '/Requests\/sec/ {print $2}' "$W/wrk.out")
  awk -v r="$rps" -v c="$c" -v wi=$((wi1 - wi0)) 'BEGIN {printf "c=%-3s req/s %-9s workitems %.2f", c, r, wi / (r * 6)}
    /syscalls|context-switches|task-clock/ {gsub(",", "", $1); n=$2; sub("syscalls:sys_enter_", "", n); if (n == "msec") n = "cpu-ms"; printf " %s %.2f", n, $1 / (r * 6)}
    END {print ""}' "$W/stat.out"
done
