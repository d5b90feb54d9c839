#!/usr/bin/env bash
# The Python package (bindings/python, design/python.md): installs it the way a user does,
# `pip install ./bindings/python`, into a fresh virtual environment (pip, maturin and the
# test dependencies come from PyPI), then runs its pytest suite, which also compares the
# package's answers with the CLI's `--format json` (target/release/regain).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/py-venv-ci
echo "== python: virtual environment in $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -m pip install --quiet --upgrade pip
# The tests' dependencies (pyproject.toml's `test` extra); mypy checks the type stubs.
python -m pip install --quiet maturin pytest "dask[distributed]" pyyaml "mypy>=1.18"

echo "== python: pip install ./bindings/python"
python -m pip install ./bindings/python

echo "== python: pytest bindings/python/tests"
# The CLI the answers are compared with, built from this checkout (a no-op when fresh).
cargo build --release --bin regain
REGAIN_CLI="$PWD/target/release/regain" python -m pytest bindings/python/tests -q -p no:cacheprovider
deactivate
