#!/usr/bin/env bash
# Editor support checks (design/editor.md): the TextMate grammar test (vscode-textmate +
# vscode-oniguruma over every shipped policy) and an independent LSP client (headless
# Neovim from the system packages, configured by the README's snippet) against
# `regain lsp`. The protocol tests themselves run in `cargo test` (tests/lsp.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# 1. The grammar test.
( cd editors/vscode && { npm ci --no-audit --no-fund || npm install --no-audit --no-fund; } && npm test )

# 2. Neovim headless against the built server.
if ! command -v nvim >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim >/dev/null
fi
cargo build --quiet --bin regain
export PATH="$ROOT/target/debug:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The README's Neovim snippet, exactly as written, is the init file.
awk '/<!-- nvim-snippet -->/{on=1; next} on && /^```lua/{inside=1; next} inside && /^```/{exit} inside{print}' README.md > "$tmp/init.lua"
test -s "$tmp/init.lua" || { echo "README has no Neovim snippet" >&2; exit 1; }
export REGAIN_ROOT="$ROOT" REGAIN_NVIM_OUT="$tmp/nvim.json"
timeout 120 nvim --headless -n -i NONE -u "$tmp/init.lua" -c "luafile $ROOT/tests/lsp_nvim.lua" </dev/null
echo "nvim results: $(cat "$tmp/nvim.json")"
passed=$(grep -oE '"ok": ?true' "$tmp/nvim.json" | wc -l)
failed=$(grep -oE '"ok": ?false' "$tmp/nvim.json" | wc -l || true)
echo "lsp nvim: $passed passed, $failed failed"
test "$failed" -eq 0 && test "$passed" -ge 8
