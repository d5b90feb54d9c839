#!/usr/bin/env bash
# Regenerates every command output quoted in README.md, in the order the README shows
# them. Run from the repository root after `cargo build --release`:
#
#     bash scripts/readme-outputs.sh > /tmp/readme-outputs.txt
#
# Each block starts with the command line as the README prints it and ends with its exit
# code. Long outputs are printed in full here; the README shows their head and marks each
# cut with a `…` line that says what was left out. Scratch files go to a temporary
# directory, which is removed at the end.
set -u
r=./target/release/regain
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# `run ARGS...`: print `$ regain ARGS` (quoted as a shell would need them), the output
# (stdout and stderr) and `[exit N]`.
run() {
    local shown="" a
    for a in "$@"; do
        case $a in
            *[[:space:]\'\"*\;\&\|\<\>]*) shown+=" '$a'" ;;
            *) shown+=" $a" ;;
        esac
    done
    echo "\$ regain${shown//$tmp//tmp}"
    "$r" "$@" 2>&1 | sed "s#$tmp#/tmp#g"
    echo "[exit ${PIPESTATUS[0]}]"
    echo
}
section() { printf '\n======== %s\n\n' "$*"; }

section "check"
run check policies/alipay.regain policies/bank.regain policies/consumer.regain policies/entra_sspr.regain
run check tests/fixtures/invalid/E0003_unknown_fact.regain

section "check: a parser hint (README, language section: the message and the help)"
printf 'policy p\nfacts { a: bool }\nmethods { m: possession requires a && a }\npath x { steps m grants r notify m }\n' > "$tmp/hint.regain"
cat "$tmp/hint.regain"
run check "$tmp/hint.regain"

section "eval (profile.json below; the README shows it as profile.json)"
printf '%s\n' '{"phone":{"bound":true,"active":false,"sim_changed_days":400,"owner_verified":true},"device":{"trusted":false},"email":{"bound":true,"verified":true,"changed_days":900},"questions":{"set":3},"identity":{"verified":true},"bank_card":{"bound":true},"account":{"risk":"low"}}' > "$tmp/profile.json"
cat "$tmp/profile.json"
echo
run eval policies/alipay.regain --profile "$tmp/profile.json" --explain
run eval policies/alipay.regain --profile "$tmp/profile.json" --format json

section "exit codes: a JSON error"
run eval policies/alipay.regain --profile "$tmp/missing.json" --format json

section "graph"
run graph policies/alipay.regain --format stats
run graph policies/bank.regain --format stats

section "analyze (README: in full)"
run analyze policies/alipay.regain --top 3

section "analyze --model (README: up to the lockout conditions)"
run analyze policies/alipay.regain --model policies/alipay.model.yaml --top 3

section "analyze bank --model (README: shares, the first 5 lockout conditions, findings)"
run analyze policies/bank.regain --model policies/bank.model.yaml --top 5

section "analyze: an acknowledgement in the policy (README: the findings)"
sed '/^path sms /i # regain: allow A005 "the rest can go to a branch with an ID"' \
    policies/alipay.regain > "$tmp/alipay.regain"
grep -n -A1 'regain: allow' "$tmp/alipay.regain"
run analyze "$tmp/alipay.regain" --deny-warnings

section "analyze: a baseline"
run analyze policies/alipay.regain --deny-warnings --top 0
run analyze policies/alipay.regain --write-baseline "$tmp/baseline.json" --top 0
sed "s#$tmp#/tmp#g" "$tmp/baseline.json"
run analyze policies/alipay.regain --baseline "$tmp/baseline.json" --deny-warnings --top 0

section "diff (README: in full)"
sed 's/questions.set >= 2/questions.set >= 3/' policies/alipay.regain > "$tmp/alipay-q3.regain"
diff policies/alipay.regain "$tmp/alipay-q3.regain" | sed "s#$tmp#/tmp#g"
run diff policies/alipay.regain "$tmp/alipay-q3.regain" --top 2

section "simulate (README: in full)"
run simulate policies/alipay.regain

section "simulate --compare (README: the whole population)"
sed 's/^  wait 24h$/  wait 1h/' policies/alipay.regain > "$tmp/alipay-1h.regain"
diff policies/alipay.regain "$tmp/alipay-1h.regain" | sed "s#$tmp#/tmp#g"
run simulate policies/alipay.regain --compare "$tmp/alipay-1h.regain"

section "simulate --set (README: in full)"
run simulate policies/alipay.regain --exact --set 'carrier.wait=1h,24h,72h,7d'

section "simulate --shard and merge"
"$r" simulate policies/alipay.regain --shard 1/2 --format json > "$tmp/s1.json"
"$r" simulate policies/alipay.regain --shard 2/2 --format json > "$tmp/s2.json"
run merge "$tmp/s1.json" "$tmp/s2.json"
echo "merge equals the single run, apart from the model line:"
diff <("$r" merge "$tmp/s1.json" "$tmp/s2.json") <("$r" simulate policies/alipay.regain) | sed "s#$tmp#/tmp#g"
run merge "$tmp/s1.json" "$tmp/s1.json"

section "test (README: the first two unreached terminals)"
run test policies/alipay.suite.yaml --coverage --top 2 --filter "phone out of service"

section "test: a failing case"
cat > "$tmp/sim-swap.suite.yaml" <<EOF
policy: $PWD/policies/alipay.regain
base:
  phone: {bound: true, active: true, sim_changed_days: 400, owner_verified: true}
  device: {trusted: false}
  email: {bound: true, verified: true, changed_days: 900}
  questions: {set: 3}
  identity: {verified: true}
  bank_card: {bound: true}
  account: {risk: low}
cases:
  - name: a SIM swapped yesterday still gets the SMS path
    profile: {phone.sim_changed_days: 1}
    expect:
      first: sms
EOF
run test "$tmp/sim-swap.suite.yaml"

section "test --generate (README: the first cases)"
run test --generate policies/alipay.regain

section "fmt"
run fmt --check policies/alipay.regain
sed 's/^  wait 72h$/      wait 72h/' policies/alipay.regain > "$tmp/alipay-unformatted.regain"
run fmt --check "$tmp/alipay-unformatted.regain"

section "simulate bank (How owners and attackers move)"
run simulate policies/bank.regain
run simulate policies/bank.regain --exact
