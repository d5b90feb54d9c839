#!/usr/bin/env bash
# Editor support checks (design/editor.md): the VS Code extension (TextMate grammar test
# with vscode-textmate + vscode-oniguruma over every shipped policy, the client's type
# check, its .vsix), and two independent LSP clients against `regain lsp`: vscode-jsonrpc
# as the extension starts the server, and headless Neovim from the system packages
# configured by the README's snippet. The protocol tests themselves run in `cargo test`
# (tests/lsp.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# 1. The VS Code extension: the grammar test, the client's type check against the VS
#    Code API, and the .vsix the README installs (with the client's runtime dependencies).
(
  cd editors/vscode
  npm ci --no-audit --no-fund || npm install --no-audit --no-fund
  npm test
  npm run check
  rm -f ./*.vsix
  npm run package
  python3 - regain-*.vsix <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["extension/package.json", "extension/extension.js", "extension/language-configuration.json",
        "extension/syntaxes/regain.tmLanguage.json", "extension/node_modules/vscode-languageclient/node.js"]
missing = [n for n in need if n not in names]
assert not missing, f"the .vsix lacks {missing}"
assert not any(n.startswith(("extension/test", "extension/node_modules/typescript/")) for n in names), "dev files in the .vsix"
print(f"vsix: {len(names)} files, client and grammar included")
PY
)

# 2. Neovim headless against the built server.
if ! command -v nvim >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim >/dev/null
fi
cargo build --quiet --bin regain
export PATH="$ROOT/target/debug:$PATH"

# 2a. The server as the VS Code extension starts it (`regain lsp --stdio`), through
#     vscode-jsonrpc, the library VS Code's client is built on.
( cd editors/vscode && REGAIN_BIN="$ROOT/target/debug/regain" npm run test:server )

# 2b. Neovim's own client.
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
test "$failed" -eq 0 && test "$passed" -ge 16
