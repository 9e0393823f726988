#!/usr/bin/env bash
# Bare YARP beside several builds or settings of the agent, in one run against one emulator, the way
# ../shared/perf/run.sh measures (wrk, a small non-streaming request, cells in mirrored order, proxy CPU from /proc),
# but every target warmed for WARM seconds at c=32 first: for ablations (a build with a part of the request path
# removed) and settings compared at steady state, not for the reference figures.
#
#   tests/perf/ablate.sh SECONDS "CONCURRENCIES" WARM NAME=CHECKOUT[@ARG,ARG...] ...
#   e.g. tests/perf/ablate.sh 8 "1 32" 20 head=. gather0=.@--Store:CloseGatherTime=00:00:00 nostore=/tmp/nostore
#
# The emulator is the first checkout's. Bare YARP is ../shared/perf/bareyarp beside the repository (BAREYARP= to
# point elsewhere). Needs: dotnet, wrk, python3, curl.
set -u
[ $# -ge 4 ] || { echo "usage: $0 SECONDS \"CONCURRENCIES\" WARM NAME=CHECKOUT[@ARGS] ..." >&2; exit 2; }
D=$1; CS=$2; WARM=$3; shift 3
HERE=$(cd "$(dirname "$0")" && pwd); BAREYARP=${BAREYARP:-$HERE/../../../shared/perf/bareyarp}
[ -d "$BAREYARP" ] || { echo "no bare YARP project at $BAREYARP (set BAREYARP=)" >&2; exit 1; }
W=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
UP=upstream-key-0123456789; ADM=admin-token-0123456789abcdef
first=${1#*=}; first=${first%%@*}
dotnet build -c Release "$first/src/MeterAgent.Emulator" -o $W/emu >$W/build.log 2>&1 || { echo "emulator build failed: $W/build.log"; exit 1; }
cp -r "$BAREYARP" $W/bys && dotnet build -c Release $W/bys -o $W/yarp >>$W/build.log 2>&1 || { echo "bare YARP build failed"; exit 1; }
PE=$(free_port); PY=$(free_port)
(cd $W/emu && exec dotnet MeterAgent.Emulator.dll --urls http://127.0.0.1:$PE --Emulator:RequiredApiKey=$UP >$W/emu.log 2>&1) & PIDS+=($!)
(UPSTREAM=http://127.0.0.1:$PE/ exec dotnet $W/yarp/bareyarp.dll --urls http://127.0.0.1:$PY >$W/yarp.log 2>&1) & PIDS+=($!); YARP=$!
body='{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the plot of Hamlet in two sentences, please."}]}'
lua() { printf 'wrk.method="POST"; wrk.body=%s; wrk.headers["Content-Type"]="application/json"; wrk.headers["Authorization"]="Bearer %s"\n' "'$body'" "$2" > $W/$1.lua; }
lua yarp $UP
T=(yarp:$PY:$YARP)
for a in "$@"; do
  n=${a%%=*}; spec=${a#*=}; src=${spec%%@*}; extra=""; [ "$spec" != "$src" ] && extra=${spec#*@}
  B=$W/bin-$n; dotnet build -c Release "$src/src/MeterAgent" -o $B >>$W/build.log 2>&1 || { echo "$n: build failed: $W/build.log"; exit 1; }
  PA=$(free_port); PM=$(free_port)
  (cd $B && exec dotnet MeterAgent.dll --MeterAgent:ProxyPort=$PA --MeterAgent:ManagementPort=$PM --MeterAgent:AdminToken=$ADM \
   --Store:Path=$W/$n.db --MeterAgent:Upstreams:openai:ApiKey=$UP \
   --ReverseProxy:Clusters:openai:Destinations:primary:Address=http://127.0.0.1:$PE/ --Logging:LogLevel:Default=Warning ${extra//,/ } >$W/$n.log 2>&1) & PIDS+=($!); pid=$!
  for _ in $(seq 60); do curl -sf http://127.0.0.1:$PM/healthz/ready >/dev/null && break; sleep 1; done
  acct=$(curl -s -XPOST http://127.0.0.1:$PM/admin/accounts -H "Authorization: Bearer $ADM" -H 'content-type: application/json' -d '{"name":"bench"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
  KEY=$(curl -s -XPOST http://127.0.0.1:$PM/admin/accounts/$acct/keys -H "Authorization: Bearer $ADM" | python3 -c 'import json,sys;d=json.load(sys.stdin);print(d.get("key") or d.get("secret"))')
  [ -n "$KEY" ] || { echo "$n: could not create a client key"; tail -5 $W/$n.log; exit 1; }
  lua $n "$KEY"; T+=($n:$PA:$pid)
done
for t in "${T[@]}"; do IFS=: read n p pid <<<"$t"; wrk -t1 -c32 -d${WARM}s -s $W/$n.lua http://127.0.0.1:$p/v1/chat/completions >/dev/null; done
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
cell() { # name port pid c
  local t0 t1; t0=$(ticks $3)
  wrk -t1 -c$4 -d${D}s --latency -s $W/$1.lua http://127.0.0.1:$2/v1/chat/completions > $W/out 2>&1
  t1=$(ticks $3)
  awk -v n=$1 -v c=$4 -v dt=$((t1 - t0)) -v hz=$(getconf CLK_TCK) '
    /requests in/ {req=$1} /Requests\/sec/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} /Non-2xx/ {bad=$NF}
    function ms(x) { if (x ~ /us$/) return x/1000; if (x ~ /ms$/) return x+0; if (x ~ /s$/) return x*1000; return x }
    END { printf "%s %s %s %.3f %.3f %.1f %d\n", n, c, rps, ms(p50), ms(p99), dt*1e6/hz/req, bad }' $W/out >> $W/res; }
for c in $CS; do
  for t in "${T[@]}" $(printf '%s\n' "${T[@]}" | tac); do IFS=: read n p pid <<<"$t"; cell $n $p $pid $c; done
done
python3 - $W/res <<'PY'
import sys, collections
rows, order = collections.defaultdict(list), []
for l in open(sys.argv[1]):
    n, c, rps, p50, p99, cpu, bad = l.split(); rows[(n, int(c))].append((float(rps), float(p50), float(p99), float(cpu), int(bad)))
    order += [n] if n not in order else []
mean = lambda xs: sum(xs) / len(xs)
print("| target | c | req/s (both cells) | / bare YARP | p50 ms | p99 ms | added p99 ms | proxy CPU µs/req | non-2xx |\n|---|---|---|---|---|---|---|---|---|")
for c in sorted({c for _, c in rows}):
    y = rows[("yarp", c)]
    for n in order:
        v = rows[(n, c)]
        print(f"| {n} | {c} | {' / '.join(f'{x[0]:.0f}' for x in v)} | {mean([x[0] for x in v]) / mean([x[0] for x in y]):.2f}x | "
              f"{mean([x[1] for x in v]):.3f} | {mean([x[2] for x in v]):.3f} | {mean([x[2] for x in v]) - mean([x[2] for x in y]):+.2f} | "
              f"{mean([x[3] for x in v]):.1f} | {sum(x[4] for x in v)} |")
PY
