#!/usr/bin/env bash
# Load test of `regain serve` on loopback with wrk (apt-get install wrk), side by side
# with cedar-agent (permitio/cedar-agent) when it is given:
#
#   scripts/bench-serve.sh [SECONDS]
#   CEDAR_AGENT=/path/to/cedar-agent/target/release/cedar-agent scripts/bench-serve.sh 10
#   SERVE_ARGS="--threads 1" scripts/bench-serve.sh     # extra `regain serve` flags
#
# Runs, each after a 2 s warm-up, `wrk -t2 -c32` (wrk and the server share the cores):
#   1. regain: batches of 1,000 profiles (decisions/s = requests/s × 1,000);
#   2. regain: single decisions (one complete decision = every path, per request),
#      alternating three times with
#   3. regain: single decisions with the decision log on (to a file);
#   4. cedar-agent: `POST /v1/is_authorized`, one path per request, the alipay policy
#      translated to Cedar as benches/peers.rs translates it
#      (bindings/python/bench/alipay.cedar), the same profile as a User entity.
# Both servers are checked to answer the profile alike (the paths regain offers are the
# actions cedar-agent allows) before anything is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet --bin regain
TMP="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

PROFILE='{"phone":{"bound":true,"active":false,"sim_changed_days":400,"owner_verified":true},"device":{"trusted":false},"email":{"bound":true,"verified":true,"changed_days":900},"questions":{"set":3},"identity":{"verified":true},"bank_card":{"bound":true},"account":{"risk":"low","frozen":false}}'
echo "{\"profile\":$PROFILE}" > "$TMP/one.json"
python3 - "$TMP" "$PROFILE" <<'PY'
import json, re, sys
tmp, p = sys.argv[1], json.loads(sys.argv[2])
json.dump({"profiles": [p] * 1000}, open(f"{tmp}/batch.json", "w"))
# cedar-agent's inputs: the policies (one entry per @id), the profile as one User.
flat = {}
def walk(prefix, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(f"{prefix}_{k}" if prefix else k, x)
    else:
        flat[prefix] = v
walk("", p)
text = open("bindings/python/bench/alipay.cedar").read()
policies = [{"id": m.group(1), "content": m.group(2).strip()}
            for m in re.finditer(r'@id\("([^"]+)"\)\s*\n(.*?;)\s*(?=\n@id|\Z)', text, re.S)]
assert len(policies) >= 2, "no policies found in alipay.cedar"
json.dump(policies, open(f"{tmp}/cedar-policies.json", "w"))
json.dump([{"uid": {"type": "User", "id": "u1"}, "attrs": flat, "parents": []}],
          open(f"{tmp}/cedar-data.json", "w"))
json.dump({"principal": 'User::"u1"', "action": 'Action::"email"',
           "resource": 'Account::"a1"'}, open(f"{tmp}/cedar-query.json", "w"))
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
lua "$TMP/cedar-query.json" "$TMP/cedar.lua"

ADDR=""
start() { # regain serve ARGS...; sets ADDR
  : > "$TMP/serve.log"
  # shellcheck disable=SC2086 # SERVE_ARGS is a list of flags
  target/release/regain serve "$@" ${SERVE_ARGS:-} --addr 127.0.0.1:0 2>"$TMP/serve.log" &
  PIDS+=($!)
  for _ in $(seq 1 200); do
    ADDR="$(sed -n 's/^listening on http:\/\///p' "$TMP/serve.log" | head -n1)"
    [ -n "$ADDR" ] && return
    sleep 0.1
  done
  cat "$TMP/serve.log" >&2; exit 1
}
stop() { kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }
run() { # title, lua, url
  wrk -t2 -c32 -d2s -s "$2" "$3" >/dev/null
  echo "== $1 (wrk -t2 -c32 -d${SECS}s)"
  wrk -t2 -c32 -d"${SECS}s" --latency -s "$2" "$3"
}

echo "== $(date -u +%FT%TZ) $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); regain serve ${SERVE_ARGS:-(default flags)}"
start policies/alipay.regain
URL="http://$ADDR/v1/policies/alipay_password_reset/decide"
start policies/alipay.regain --decision-log "$TMP/decisions.jsonl"
URL_LOG="http://$ADDR/v1/policies/alipay_password_reset/decide"
OFFERED="$(curl -sf -X POST -H 'Content-Type: application/json' --data @"$TMP/one.json" "$URL" \
  | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["result"]["paths"]))')"
echo "regain offers: $OFFERED"
# Batches first: the decision log's file (about 0.5 GB over the rounds below) is
# written back to disk for a while after them, which slows whatever runs next.
run "regain: batches of 1,000 profiles (decisions/s = requests/s x 1000)" "$TMP/batch.lua" "$URL"
# The log's cost is measured by alternating the two servers (this VM's speed drifts
# by tens of percent within minutes): three runs each, then the medians.
for round in 1 2 3; do
  run "regain: single decisions (round $round)" "$TMP/one.lua" "$URL" | tee -a "$TMP/off.txt"
  run "regain: single decisions, decision log on (round $round)" "$TMP/one.lua" "$URL_LOG" | tee -a "$TMP/on.txt"
done
stop
stop
echo "decision-log lines: $(wc -l < "$TMP/decisions.jsonl")"
rm -f "$TMP/decisions.jsonl"
sync # the log's write-back ends here, not during the next measurement
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
OFF="$(sed -n 's/^Requests\/sec: *//p' "$TMP/off.txt" | median)"
ON="$(sed -n 's/^Requests\/sec: *//p' "$TMP/on.txt" | median)"
p99s() { sed -n 's/^ *99% *//p' "$1" | sed 's/ms$//;s/\([0-9.]*\)us$/\1e-3/' | awk '{print $1+0}'; }
P99="$(p99s "$TMP/off.txt" | median)"
echo "p99 per run (ms): log off $(p99s "$TMP/off.txt" | tr '\n' ' ')/ log on $(p99s "$TMP/on.txt" | tr '\n' ' ')"
echo "== medians of 3: log off ${OFF} req/s (p99 ${P99} ms), log on ${ON} req/s: $(python3 -c "print(f'{($ON/$OFF-1)*100:+.1f} %')")"

if [ -n "${CEDAR_AGENT:-}" ]; then
  "$CEDAR_AGENT" --addr 127.0.0.1 --port 18180 >"$TMP/cedar.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18180/v1/ >/dev/null 2>&1 && break; sleep 0.1; done
  curl -sf -X PUT -H 'Content-Type: application/json' --data @"$TMP/cedar-policies.json" http://127.0.0.1:18180/v1/policies >/dev/null
  curl -sf -X PUT -H 'Content-Type: application/json' --data @"$TMP/cedar-data.json" http://127.0.0.1:18180/v1/data >/dev/null
  ALLOWED=""
  for path in sms unbind_phone email carrier support; do
    q="{\"principal\":\"User::\\\"u1\\\"\",\"action\":\"Action::\\\"$path\\\"\",\"resource\":\"Account::\\\"a1\\\"\"}"
    d="$(curl -sf -X POST -H 'Content-Type: application/json' -d "$q" http://127.0.0.1:18180/v1/is_authorized \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["decision"])')"
    [ "$d" = "Allow" ] && ALLOWED="$ALLOWED $path"
  done
  echo "cedar-agent allows:${ALLOWED}"
  [ "${ALLOWED# }" = "$OFFERED" ] || { echo "the two servers disagree" >&2; exit 1; }
  run "cedar-agent: is_authorized, one path per request" "$TMP/cedar.lua" http://127.0.0.1:18180/v1/is_authorized
fi
