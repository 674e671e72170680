#!/usr/bin/env bash
# Command-line checks: exit codes, validation messages and a short run's reports.
# Usage: Tests/cli/run.sh path/to/stacksim
set -uo pipefail
bin=${1:?usage: run.sh path/to/stacksim}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() { # check NAME EXPECTED_EXIT PATTERN -- COMMAND...
    local name=$1 want=$2 pattern=$3; shift 4
    local out code
    out=$("$@" 2>&1); code=$?
    if [[ $code -eq $want ]] && grep -qE -- "$pattern" <<<"$out"; then
        passed=$((passed + 1)); echo "ok   $name"
    else
        failed=$((failed + 1)); echo "FAIL $name: exit $code (wanted $want), output:"; sed 's/^/     /' <<<"$out" | head -20
    fi
}

cat >"$work/bad.yaml" <<'YAML'
name: bad
load:
  phases:
    - { name: steady, duration: 10s, rate: quickly }
YAML
cat >"$work/short.yaml" <<'YAML'
name: short
description: a short run for the CLI checks
dataset: { organizations: 4, users_per_org: {uniform: {min: 3, max: 8}}, tasks_per_user: 5, sprints_per_org: 3 }
load:
  phases:
    - { name: warmup, duration: 1s, rate: 50/s, record: false }
    - { name: steady, duration: 2s, rate: 150/s }
thresholds:
  errors: { rate: 0.1% }
YAML
{ cat "$work/short.yaml"; echo "  board: { p99: 1us }"; } >"$work/strict.yaml"
mkdir -p "$work/scenarios" && cp "$work/bad.yaml" "$work/short.yaml" "$work/scenarios/"

check "bad scenario: exit 64 with file, line and expectation" 64 "bad.yaml:4:.*load.phases\[0\].rate: expected a rate like 200/s" -- "$bin" run "$work/bad.yaml"
check "missing scenario file: exit 64" 64 "cannot read the file" -- "$bin" run "$work/none.yaml"
check "bad --duration: exit 64 naming the flag" 64 "^stacksim: --duration: expected a duration" -- "$bin" run "$work/short.yaml" --duration soon
check "bad --rate: exit 64 naming the flag" 64 "^stacksim: --rate: expected a rate" -- "$bin" run "$work/short.yaml" --rate lots
check "--users on an open scenario: exit 64" 64 "--users" -- "$bin" run "$work/short.yaml" --users 5
check "validate lists the invalid one: exit 64" 64 "1 valid, 1 invalid" -- "$bin" scenarios "$work/scenarios" --validate
check "shipped scenarios validate" 0 "valid, 0 invalid" -- "$bin" scenarios Scenarios --validate
check "a short run passes and writes its reports" 0 "short on embedded: PASS" -- "$bin" run "$work/short.yaml" --out "$work/out" --quiet
for f in report.json report.md intervals.csv latency.hlog; do
    check "the run wrote $f" 0 "^" -- test -s "$work/out/$f"
done
check "report.json names its target and schema" 0 '"schema_version" : 1' -- grep -E '"schema_version"|"target" : "embedded"' "$work/out/report.json"
check "latency.hlog reads back with HdrHistogram's Python decoder" 0 "agree with intervals.csv" -- python3 "$(dirname "$0")/hlog_check.py" "$work/out/latency.hlog" "$work/out/intervals.csv"
check "report.md breaks latency down by organization size and phase" 0 "By organization size" -- grep -E "## By (organization size|phase)" "$work/out/report.md"
"$bin" run "$work/short.yaml" --dry-run 200 >"$work/dry1" 2>&1
"$bin" run "$work/short.yaml" --dry-run 200 >"$work/dry2" 2>&1
check "--dry-run prints the intended operations" 0 "^#199 t=" -- tail -1 "$work/dry1"
check "two dry runs of one seed are identical" 0 "^" -- cmp "$work/dry1" "$work/dry2"
check "another seed intends other operations" 1 "differ" -- cmp "$work/dry1" <("$bin" run "$work/short.yaml" --dry-run 200 --seed 9)
check "a failed threshold exits 10" 10 "FAILED threshold board.p99" -- "$bin" run "$work/strict.yaml" --out "$work/strict" --quiet
check "flags override the file" 0 "in 1.0 s recorded" -- "$bin" run "$work/short.yaml" --duration 1s --rate 80/s --seed 5 --out "$work/o2" --quiet
check "no terminal: a progress line every 10 s" 0 "\[steady\] +10/11 s" -- "$bin" run "$work/short.yaml" --duration 10s --out "$work/o3"

echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
