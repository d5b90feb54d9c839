#!/usr/bin/env bash
# Load test of `regain serve` on loopback with wrk (apt-get install wrk):
#   single decisions (one profile per request), batches of 1,000 profiles, and single
#   decisions with the decision log on. Prints wrk's summary for each run.
# Optional peer: CEDAR_AGENT=/path/to/cedar-agent CEDAR_POLICIES=policies.json
#   CEDAR_DATA=data.json CEDAR_QUERY=query.json runs the same wrk load against
#   cedar-agent's POST /v1/is_authorized (one path per request).
# Usage: scripts/bench-serve.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet --bin regain
TMP="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

PROFILE='{"phone":{"bound":true,"active":false,"sim_changed_days":400,"owner_verified":true},"device":{"trusted":false},"email":{"bound":true,"verified":true,"changed_days":900},"questions":{"set":3},"identity":{"verified":true},"bank_card":{"bound":true},"account":{"risk":"low"}}'
echo "{\"profile\":$PROFILE}" > "$TMP/one.json"
python3 - "$TMP/batch.json" "$PROFILE" <<'PY'
import json, sys
p = json.loads(sys.argv[2])
json.dump({"profiles": [p] * 1000}, open(sys.argv[1], "w"))
PY
lua() { # $1 body file, $2 lua file
  cat > "$2" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$1", "rb"); wrk.body = f:read("*a"); f:close()
LUA
}
lua "$TMP/one.json" "$TMP/one.lua"
lua "$TMP/batch.json" "$TMP/batch.lua"

start() { # args → prints the address
  target/release/regain serve "$@" --addr 127.0.0.1:0 2>"$TMP/serve.log" &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    a="$(sed -n 's/^listening on http:\/\///p' "$TMP/serve.log" | head -n1)"
    [ -n "$a" ] && { echo "$a"; return; }
    sleep 0.1
  done
  cat "$TMP/serve.log" >&2; exit 1
}
stop() { kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }

echo "== $(date -u +%FT%TZ) $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
A="$(start policies/alipay.regain)"
URL="http://$A/v1/policies/alipay_password_reset/decide"
wrk -t2 -c32 -d2s -s "$TMP/one.lua" "$URL" >/dev/null   # warm-up
echo "== regain: single decisions (wrk -t2 -c32 -d${SECS}s)"
wrk -t2 -c32 -d"${SECS}s" --latency -s "$TMP/one.lua" "$URL"
echo "== regain: batches of 1,000 profiles (decisions/s = requests/s × 1000)"
wrk -t2 -c32 -d"${SECS}s" --latency -s "$TMP/batch.lua" "$URL"
stop
A="$(start policies/alipay.regain --decision-log "$TMP/decisions.jsonl")"
URL="http://$A/v1/policies/alipay_password_reset/decide"
echo "== regain: single decisions, decision log on"
wrk -t2 -c32 -d"${SECS}s" --latency -s "$TMP/one.lua" "$URL"
stop
echo "decision-log lines: $(wc -l < "$TMP/decisions.jsonl")"

if [ -n "${CEDAR_AGENT:-}" ]; then
  "$CEDAR_AGENT" --addr 127.0.0.1 --port 18180 >"$TMP/cedar.log" 2>&1 &
  PIDS+=($!)
  sleep 1
  curl -sf -X PUT -H 'Content-Type: application/json' --data @"$CEDAR_POLICIES" http://127.0.0.1:18180/v1/policies >/dev/null
  curl -sf -X PUT -H 'Content-Type: application/json' --data @"$CEDAR_DATA" http://127.0.0.1:18180/v1/data >/dev/null
  lua "$CEDAR_QUERY" "$TMP/cedar.lua"
  echo "== cedar-agent: is_authorized, one path per request"
  wrk -t2 -c32 -d"${SECS}s" --latency -s "$TMP/cedar.lua" http://127.0.0.1:18180/v1/is_authorized
fi
