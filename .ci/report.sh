#!/usr/bin/env bash
# Browser tests of the HTML reports and the playground (issue 12): Debian's chromium
# driven by playwright-core from npm (no browser download), against the release binary.
# Installs what is missing (chromium; Node.js and npm), then `npm ci` in tests/e2e.
# Idempotent; about 40 s after the release build. The tests rewrite the screenshots in
# docs/img/.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing ${missing[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "== npm: test dependencies (tests/e2e)"
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)

echo "== release binary"
cargo build --release --quiet

log=$(mktemp)
./target/release/regain playground --addr 127.0.0.1:0 2>"$log" &
server=$!
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"; }
trap stop EXIT

addr=""
for _ in $(seq 1 200); do
  addr=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$log" | head -n1)
  [ -n "$addr" ] && break
  if ! kill -0 "$server" 2>/dev/null; then cat "$log"; echo "the playground did not start"; exit 1; fi
  sleep 0.1
done
[ -n "$addr" ] || { cat "$log"; echo "no 'listening on' line from the playground"; exit 1; }
echo "== playground at $addr"

echo "== browser tests (tests/e2e)"
(cd tests/e2e && REGAIN_URL="$addr/" REGAIN_BIN="$PWD/../../target/release/regain" \
  node --test --test-concurrency=1 --test-reporter=spec ./*.spec.mjs)
