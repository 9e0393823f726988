# Sourced by counts.sh, allocs.sh, warmup.sh, latency.sh, tail.sh and syscalls.sh: builds the agent and the emulator of
# $SRC into a temp folder $W, starts both on loopback (ports COUNTS_PORT_BASE+1..3, default 18801-18803), creates an
# account and a key, and sets AGENT (the agent's pid), PM (its management port), URL and $W/req.lua (a small
# non-streaming OpenAI chat request for wrk; wrk_script writes one with another key). Stops both and removes $W on exit.
# AGENT_ARGS adds settings to the agent's command line (e.g. AGENT_ARGS=--Store:CloseGatherTime=0).
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
  --ReverseProxy:Clusters:openai:Destinations:primary:Address="http://127.0.0.1:$PE/" --Logging:LogLevel:Default=Warning ${AGENT_ARGS:-} >"$W/agent.log" 2>&1) &
AGENT=$!; PIDS+=($AGENT)
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PM/healthz/ready" >/dev/null && break; sleep 1; done
curl -sf "http://127.0.0.1:$PM/healthz/ready" >/dev/null || { echo "the agent did not become ready:" >&2; tail "$W/agent.log" >&2; exit 1; }

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('$1') or d.get('${2:-$1}'))"; }
ACCOUNT=$(curl -sf -XPOST "http://127.0.0.1:$PM/admin/accounts" -H "Authorization: Bearer $ADM" -H 'content-type: application/json' -d '{"name":"counts"}' | json id)
KEY=$(curl -sf -XPOST "http://127.0.0.1:$PM/admin/accounts/$ACCOUNT/keys" -H "Authorization: Bearer $ADM" | json key secret)
BODY='{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Summarise the plot of Hamlet in two sentences, please."}]}'
# wrk_script BEARER FILE: a wrk script that sends the request with that key (the agent's client key, or the upstream's).
wrk_script() { printf 'wrk.method="POST"; wrk.body=%s; wrk.headers["Content-Type"]="application/json"; wrk.headers["Authorization"]="Bearer %s"\n' "'$BODY'" "$1" >"$2"; }
wrk_script "$KEY" "$W/req.lua"
URL="http://127.0.0.1:$PA/v1/chat/completions"

# Thread-pool work items the agent completed (its management port's /metrics), for hand-offs per request.
workitems() { curl -sf "http://127.0.0.1:$PM/metrics" | awk '/^system_runtime_dotnet_thread_pool_work_item_count / {print $2}'; }

# Requests the agent has served (every surface and status).
served() { curl -sf "http://127.0.0.1:$PM/metrics" | awk '/^meteragent_requests_total[{ ]/ {s += $NF} END {printf "%d", s}'; }
