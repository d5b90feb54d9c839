#!/usr/bin/env bash
# Regenerates the command outputs quoted in README.md (run from the repository root
# after `cargo build --release`). Prints each block; paste into the README.
set -u
r=./target/release/regain
run() { echo "\$ regain $*"; $r "$@" 2>&1; echo "[exit $?]"; echo; }
run check policies/alipay.regain policies/consumer.regain policies/entra_sspr.regain
run check tests/fixtures/invalid/E0003_unknown_fact.regain
printf '%s' '{"phone":{"bound":true,"active":false,"sim_changed_days":400,"owner_verified":true},"device":{"trusted":false},"email":{"bound":true,"verified":true,"changed_days":900},"questions":{"set":3},"identity":{"verified":true},"bank_card":{"bound":true},"account":{"risk":"low"}}' > /tmp/readme-profile.json
run eval policies/alipay.regain --profile /tmp/readme-profile.json --explain
run eval policies/alipay.regain --profile /tmp/readme-profile.json --format json
run graph policies/alipay.regain --format stats
run analyze policies/alipay.regain --top 3
run simulate policies/alipay.regain
run test policies/alipay.suite.yaml --coverage --filter "phone out of service"
run fmt --check policies/alipay.regain
