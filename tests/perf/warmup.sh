#!/usr/bin/env bash
# How fast a fresh agent reaches its full throughput and latency: wrk at CONCURRENCY in WINDOWS windows of 5 s from the
# agent's first request (req/s, p50, p99), with the JIT's compiled methods and compile time (its System.Runtime
# metrics) after each window
# (docs/benchmarks.md, "Warm-up: the JIT, measured"). Runtime settings to compare go in the environment, e.g.
#
#   DOTNET_TieredPGO=0 tests/perf/warmup.sh CHECKOUT
#
#   tests/perf/warmup.sh CHECKOUT [CONCURRENCY] [WINDOWS]        (defaults: 32 6)
#
# Builds and starts the agent and the emulator of CHECKOUT as counts.sh does. Needs: dotnet, wrk, python3, curl.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 CHECKOUT [CONCURRENCY] [WINDOWS]" >&2; exit 2; }
for t in dotnet wrk python3 curl; do command -v $t >/dev/null || { echo "missing $t" >&2; exit 1; }; done
SRC=$(cd "$1" && pwd); C=${2:-32}; N=${3:-6}
. "$(dirname "$0")/standup.sh"

jit() { curl -sf "http://127.0.0.1:$PM/metrics" | awk '/^system_runtime_dotnet_jit_compiled_methods / {m=$2} /^system_runtime_dotnet_jit_compilation_time / {t=$2} END {printf "%d methods, %.1f s", m, t}'; }
echo "$(basename "$SRC"), c=$C; before any request: JIT $(jit)"
echo "| seconds | req/s | p50 | p99 | JIT so far |"
echo "|---:|---:|---:|---:|---|"
for i in $(seq "$N"); do
  cells=$(wrk -t1 -c"$C" -d5s --latency -s "$W/req.lua" "$URL" | awk '/Requests\/sec/ {r=$2} $1=="50%" {m=$2} $1=="99%" {p=$2} END {printf "%s | %s | %s", r, m, p}')
  echo "| $((i * 5)) | $cells | $(jit) |"
done
