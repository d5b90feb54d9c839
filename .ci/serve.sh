#!/usr/bin/env bash
# regain serve against its OpenAPI document (docs/openapi.yaml) with schemathesis:
# installs schemathesis from PyPI into a venv, starts the release server on a free
# loopback port, runs a bounded number of generated requests per operation (every
# answer must be documented, JSON where documented, and never a 5xx), stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${REGAIN_SCHEMATHESIS_VENV:-${TMPDIR:-/tmp}/regain-schemathesis-venv}"
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check 'schemathesis>=4,<5'
fi

cargo build --release --quiet --bin regain

LOG="$(mktemp)"
target/release/regain serve policies --addr 127.0.0.1:0 2>"$LOG" &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -f "$LOG"; }
trap cleanup EXIT

ADDR=""
for _ in $(seq 1 200); do
  ADDR="$(sed -n 's/^listening on http:\/\///p' "$LOG" | head -n1)"
  [ -n "$ADDR" ] && break
  sleep 0.1
done
if [ -z "$ADDR" ]; then
  echo "regain serve did not start:" >&2
  cat "$LOG" >&2
  exit 1
fi

"$VENV/bin/schemathesis" run docs/openapi.yaml \
  --url "http://$ADDR" \
  --max-examples 25 \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --request-timeout 10 \
  --no-color

kill -TERM "$PID"
wait "$PID"
trap - EXIT
rm -f "$LOG"
echo "serve: schemathesis passed"
