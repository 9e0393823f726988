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
. "$(dirname "$0")/standup.sh"

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
