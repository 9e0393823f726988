#!/usr/bin/env bash
# System calls per request, the agent beside bare YARP: what the agent asks of the kernel that a plain proxy does not.
# Each proxy is warmed for 10 s at c=32, then `perf stat` counts every system call it enters (the syscalls:sys_enter_*
# tracepoints, all its threads) while wrk drives SECONDS of small non-streaming requests at the concurrency; the counts
# are divided by the requests wrk completed.
#
#   tests/perf/syscalls.sh CHECKOUT [CONCURRENCY] [SECONDS]        (defaults: 32, 5)
#
# Builds and starts the agent and the emulator of CHECKOUT as counts.sh does (tests/perf/standup.sh; AGENT_ARGS adds
# settings) and bare YARP from ../shared/perf/bareyarp beside the repository (BAREYARP= to point elsewhere). Counting
# tracepoints barely slows either proxy, which matters here: the agent's commits are gathered by time, so its writes
# per request depend on the request rate. Needs: dotnet, wrk, perf (Debian: apt-get install wrk linux-perf), python3;
# root or perf_event_paranoid <= 1.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 CHECKOUT [CONCURRENCY] [SECONDS]" >&2; exit 2; }
for t in dotnet wrk perf python3 curl; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
SRC=$(cd "$1" && pwd); C=${2:-32}; D=${3:-5}
HERE=$(cd "$(dirname "$0")" && pwd); BAREYARP=${BAREYARP:-$HERE/../../../shared/perf/bareyarp}
[ -d "$BAREYARP" ] || { echo "no bare YARP project at $BAREYARP (set BAREYARP=)" >&2; exit 1; }
. "$HERE/standup.sh"

cp -r "$BAREYARP" "$W/bareyarp-src"
dotnet build -c Release "$W/bareyarp-src" -o "$W/bareyarp" >>"$W/build.log" 2>&1 || { echo "bare YARP build failed: $W/build.log" >&2; exit 1; }
PY=$((BASE + 4))
(UPSTREAM="http://127.0.0.1:$PE/" exec dotnet "$W/bareyarp/bareyarp.dll" --urls "http://127.0.0.1:$PY" >"$W/yarp.log" 2>&1) &
YARP=$!; PIDS+=($YARP)
for _ in $(seq 30); do curl -s -o /dev/null "http://127.0.0.1:$PY/" && break; sleep 1; done
wrk_script "$UP" "$W/up.lua"

for target in "agent $AGENT $URL $W/req.lua" "yarp $YARP http://127.0.0.1:$PY/v1/chat/completions $W/up.lua"; do
  read -r name pid url script <<<"$target"
  wrk -t1 -c32 -d10s -s "$script" "$url" >/dev/null
  perf stat -e 'syscalls:sys_enter_*' -p "$pid" -o "$W/$name.stat" -- wrk -t1 -c"$C" -d"${D}s" -s "$script" "$url" >"$W/$name.wrk"
done

python3 - "$W" "$C" <<'PY'
import sys, re
folder, c = sys.argv[1], sys.argv[2]
def counts(name):
    requests = int(re.search(r"(\d+) requests in", open(f"{folder}/{name}.wrk").read()).group(1))
    calls = {}
    for line in open(f"{folder}/{name}.stat"):
        f = line.split()
        if len(f) >= 2 and f[1].startswith("syscalls:sys_enter_") and f[0].replace(",", "").isdigit():
            calls[f[1].removeprefix("syscalls:sys_enter_")] = int(f[0].replace(",", ""))
    return requests, calls
(ra, agent), (ry, yarp) = counts("agent"), counts("yarp")
print(f"System calls per request at c={c} (perf stat, syscalls:sys_enter_*; {ra} agent and {ry} bare YARP requests)\n")
print("| call | agent | bare YARP |\n|---|---:|---:|")
print(f"| all | {sum(agent.values()) / ra:.2f} | {sum(yarp.values()) / ry:.2f} |")
for call in sorted(set(agent) | set(yarp), key=lambda k: -agent.get(k, 0) / ra):
    a, y = agent.get(call, 0) / ra, yarp.get(call, 0) / ry
    if a >= 0.01 or y >= 0.01:
        print(f"| `{call}` | {a:.2f} | {y:.2f} |")
PY
