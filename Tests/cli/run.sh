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
for f in report.json report.md report.html junit.xml intervals.csv latency.hlog; do
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
check "report.html opens in headless Chromium with a screenshot" 0 "^" -- "$(dirname "$0")/browser.sh" "$work/out/report.html" "$work/browser"
check "junit.xml, report.md and the rendered page pass independent checks" 0 "junit.xml valid, report.md renders" -- python3 "$(dirname "$0")/report_check.py" "$work/out" "$work/browser/dom.html" "$work/browser/console.log"
sed 's/^name: short/name: "<script>alert(1)<\/script> short"/' "$work/short.yaml" >"$work/xss.yaml"
"$bin" run "$work/xss.yaml" --out "$work/xss" --quiet >/dev/null 2>&1
"$(dirname "$0")/browser.sh" "$work/xss/report.html" "$work/xss-browser" >/dev/null 2>&1
check "script-like scenario text renders as text" 0 "&lt;script&gt;alert\(1\)&lt;/script&gt; short" -- grep -o "&lt;script&gt;alert(1)&lt;/script&gt; short" "$work/xss-browser/dom.html"
check "…and never as a script element" 1 "^0$" -- grep -c "<script" "$work/xss-browser/dom.html"
check "a failed threshold exits 10" 10 "FAILED threshold board.p99" -- "$bin" run "$work/strict.yaml" --out "$work/strict" --quiet
check "flags override the file" 0 "in 1.0 s recorded" -- "$bin" run "$work/short.yaml" --duration 1s --rate 80/s --seed 5 --out "$work/o2" --quiet
check "no terminal: a progress line every 10 s" 0 "\[steady\] +10/11 s" -- "$bin" run "$work/short.yaml" --duration 10s --out "$work/o3"

# Baselines: the same code twice is not a regression; an injected slowdown of one operation is.
{ sed -n '1,/^load:/p' "$work/short.yaml" | sed '$d'; cat <<'YAML'
load:
  phases:
    - { name: warmup, duration: 1s, rate: 50/s, record: false }
    - { name: steady, duration: 8s, rate: 100/s }
  mix: { board: 3, my-tasks: 3, search: 1, members: 1 }
YAML
} >"$work/base.yaml"
sed 's/^dataset:/stack: { embedded: { mongo: { operations: { board: { latency: 4ms } } } } }\ndataset:/' "$work/base.yaml" >"$work/slow.yaml"
"$bin" run "$work/base.yaml" --out "$work/b1" --quiet >/dev/null 2>&1
check "a rerun of the same code is not a regression" 0 "short on embedded: PASS" -- "$bin" run "$work/base.yaml" --out "$work/b2" --quiet --baseline "$work/b1/report.json"
check "compare agrees" 0 "^0 regressions in" -- "$bin" compare "$work/b1/report.json" "$work/b2/report.json"
check "an injected slowdown of board is a regression of board, exit 11" 11 "REGRESSION board p50" -- "$bin" run "$work/slow.yaml" --out "$work/b3" --quiet --baseline "$work/b1/report.json"
"$bin" compare "$work/b1/report.json" "$work/b3/report.json" | grep ': regression$' >"$work/regressions"
check "…and of nothing else" 1 "^0$" -- grep -vc "^board " "$work/regressions"
check "junit.xml has a baseline case for it" 0 "board p50 has not regressed" -- grep -A1 "board p50 has not regressed" "$work/b3/junit.xml"
check "compare exits 11 on the regression" 11 "board p50: .*: regression" -- "$bin" compare "$work/b1/report.json" "$work/b3/report.json"
check "baseline update stores the report" 0 "baseline for short" -- "$bin" baseline update "$work/b1/report.json" --directory "$work/baselines"
check "compare with a bad file: exit 64" 64 "not a stacksim report.json" -- "$bin" compare "$work/bad.yaml" "$work/b1/report.json"

# Authoring: the generated JSON Schema, checked by an independent validator; explain; new.
"$bin" scenarios --schema >"$work/schema.json"
check "the shipped JSON Schema is the generated one" 0 "^" -- cmp "$work/schema.json" Scenarios/scenario.schema.json
check "every shipped scenario is valid under the JSON Schema (Python jsonschema)" 0 "every-key-c.yaml: valid" -- \
    python3 "$(dirname "$0")/schema_check.py" "$work/schema.json" Scenarios/*.yaml Tests/fixtures/scenarios/*.yaml
wrong_type() { # wrong_type NAME KEY_PATTERN YAML: both the schema and stacksim reject it, naming the same key
    printf '%s\n' "$3" >"$work/wrong-$1.yaml"
    check "a wrong $1: the JSON Schema names $2" 1 ": $2: " -- python3 "$(dirname "$0")/schema_check.py" "$work/schema.json" "$work/wrong-$1.yaml"
    check "a wrong $1: stacksim names $2, exit 64" 64 ":[0-9]+:[0-9]+: $2: " -- "$bin" scenarios --explain "$work/wrong-$1.yaml"
}
wrong_type "organization count" "dataset\.organizations" $'name: w\ndataset: { organizations: many }'
wrong_type "phase duration" "load\.phases\[0\]\.duration" $'name: w\nload:\n  phases:\n    - { name: a, duration: 10, rate: 5/s }'
wrong_type "sync strategy" "stack\.sync\.strategy" $'name: w\nstack: { sync: { strategy: sometimes } }'
wrong_type "threshold key" "thresholds\.board" $'name: w\nthresholds: { board: { p98: 5ms } }'
"$bin" scenarios --explain Scenarios/default.yaml --rate 300/s >"$work/explain.txt" 2>&1
check "--explain gives every key a source" 1 "^" -- grep -vE '# (default|flag .+|Scenarios/default.yaml:[0-9]+)$' <(tail -n +2 "$work/explain.txt")
check "--explain names the flag that set a value" 0 'rate: 300/s +# flag --rate 300/s' -- cat "$work/explain.txt"
check "new writes a starter scenario" 0 "wrote $work/mine.yaml" -- "$bin" new mine --directory "$work"
check "…that validates" 0 "1 valid, 0 invalid" -- bash -c "mkdir -p '$work/new' && cp '$work/mine.yaml' '$work/new/' && '$bin' scenarios '$work/new' --validate"
check "…and is valid under the JSON Schema" 0 "mine.yaml: valid" -- python3 "$(dirname "$0")/schema_check.py" "$work/schema.json" "$work/mine.yaml"
check "new refuses to overwrite, exit 64" 64 "already exists" -- "$bin" new mine --directory "$work"

# The live target: throwaway servers from scripts/services.sh (make test starts them).
check "an unreachable server: exit 69 naming it, password redacted" 69 "postgres at postgresql://stacksim:\*\*\*@127.0.0.1:1/stacksim is unreachable" -- \
    "$bin" run "$work/short.yaml" --target live --postgres-url postgresql://stacksim:hunter2secret@127.0.0.1:1/stacksim --quiet
check "…and the password appears nowhere" 1 "^" -- bash -c "'$bin' run '$work/short.yaml' --target live --postgres-url postgresql://u:hunter2secret@127.0.0.1:1/x --quiet 2>&1 | grep hunter2"
check "db needs --target live: exit 64" 64 "need --target live" -- "$bin" db init
if [[ ${STACKSIM_LIVE_TESTS:-} == 1 ]]; then
    check "db init creates stacksim's places without data" 0 "created stacksim's places in mongo, postgres, redis" -- "$bin" db init --target live
    check "a run after db init loads into them" 0 "short on live: PASS" -- "$bin" run "$work/short.yaml" --target live --rate 20/s --out "$work/init" --quiet
    check "db seed loads a scenario's dataset and reports the rate" 0 "rows/s" -- "$bin" db seed "$work/short.yaml" --target live
    check "a short run against the live stack passes" 0 "short on live: PASS" -- \
        "$bin" run "$work/short.yaml" --target live --rate 20/s --out "$work/live" --quiet
    check "its report says target live, with server versions" 0 '"target" : "live"' -- grep '"target" : "live"' "$work/live/report.json"
    check "…and that MongoDB was the test server" 0 "latencies do not describe MongoDB" -- grep -o "latencies do not describe MongoDB" "$work/live/report.md"
    check "a second run of the same dataset loads nothing and says so" 0 "reusing the one in the stores.*loading nothing" -- \
        "$bin" run "$work/short.yaml" --target live --rate 20/s --out "$work/live2" --quiet
    check "…and its report says the dataset was reused" 0 '"reused" : true' -- grep '"reused" : true' "$work/live2/report.json"
    check "db reset asks for --yes when not on a terminal: exit 64" 64 "confirm with --yes" -- "$bin" db reset --target live </dev/null
    check "db reset --yes deletes stacksim's own places" 0 "deleted stacksim's schema 'stacksim'" -- "$bin" db reset --target live --yes
    source "$(dirname "$0")/live.sh"
fi

# SIGINT and SIGTERM (what CI systems send on cancel): the load stops, what ran is reported, exit 130.
for sig in INT TERM; do
    "$bin" run "$work/short.yaml" --duration 30s --out "$work/sig$sig" --quiet >"$work/sig$sig.log" 2>&1 &
    pid=$!
    sleep 5
    kill -$sig "$pid"
    wait "$pid"; code=$?
    check "SIG$sig stops the run with exit 130" 0 "^130$" -- echo "$code"
    check "…and still writes the report of what ran" 0 '"verdict" : "interrupted"' -- grep '"verdict"' "$work/sig$sig/report.json"
    check "…saying which signal" 0 "interrupted by SIG$sig" -- cat "$work/sig$sig/report.md"
done

echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
