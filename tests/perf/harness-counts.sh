#!/usr/bin/env bash
# System calls and context switches per measured request of one load-harness target, from `perf stat` on the
# harness's process (client, emulator and proxy in one process: compare targets and commits, not absolute values).
#
#   tests/perf/harness-counts.sh CHECKOUT [TARGET] [CONCURRENCY]     (defaults: agent-credits 32)
#
# TARGET is one of the harness's (direct, yarp, agent, agent-credits). The counts are divided by the measured
# requests, so the warm-up's requests are in the numerator: the same for every run, fine for a comparison.
# Needs: dotnet, perf (Debian: apt-get install linux-perf); root or perf_event_paranoid <= 1.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 CHECKOUT [TARGET] [CONCURRENCY]" >&2; exit 2; }
SRC=$(cd "$1" && pwd); TARGET=${2:-agent-credits}; C=${3:-32}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
dotnet build -c Release "$SRC/tests/MeterAgent.LoadHarness" -o "$W/harness" >"$W/build.log" 2>&1 || { cat "$W/build.log"; exit 1; }
perf stat -e 'syscalls:sys_enter_pwrite64,syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,context-switches,task-clock' -o "$W/stat.out" -- \
  dotnet "$W/harness/MeterAgent.LoadHarness.dll" --targets "$TARGET" --scenarios small --concurrency "$C" --duration 6 --warmup 2 \
  --out "$W/report.md" >"$W/harness.log" 2>&1
# The target's row: | name | requests | errors | req/s (run 1 / run 2) | ... | CPU/req (process) | ...
row=$(grep -E '^\| (direct|bare YARP|MeterAgent|MeterAgent \+ credits) \| [0-9]' "$W/report.md" | head -1)
[ -n "$row" ] || { echo "no result row in the harness's report" >&2; cat "$W/harness.log" >&2; exit 1; }
requests=$(echo "$row" | awk -F'|' '{gsub(/ /, "", $3); print $3}')
echo "$(basename "$SRC") $TARGET c=$C: $(echo "$row" | awk -F'|' '{gsub(/^ +| +$/, "", $2); gsub(/^ +| +$/, "", $5); printf "%s, %s req/s", $2, $5}')"
awk -v r="$requests" '/syscalls|context-switches|task-clock/ {gsub(",", "", $1); n=$2; sub("syscalls:sys_enter_", "", n); if (n == "msec") n = "cpu-ms"; printf "  %-18s %8.2f per request\n", n, $1 / r}' "$W/stat.out"
