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
        # A suite's passing checks say nothing here: its other lines (what failed, and why) are what is shown.
        failed=$((failed + 1)); echo "FAIL $name: exit $code (wanted $want), output:"; grep -v '^ok   ' <<<"$out" | sed 's/^/     /' | head -30
    fi
}

cat >"$work/bad.yaml" <<'YAML'
name: bad
load:
  phases:
    - { name: steady, duration: 10s, rate: quickly }
YAML
# The checks' runs judge their schedule at 50 ms, not the default 10: the debug build on this
# shared 2-core machine sends a few arrivals 10-40 ms late in about one short run in ten (4 of
# 300 make a run invalid), while a harness that cannot keep up falls further behind with every
# arrival (SimulationTests has the measurements).
cat >"$work/short.yaml" <<'YAML'
name: short
description: a short run for the CLI checks
dataset: { organizations: 4, users_per_org: {uniform: {min: 3, max: 8}}, tasks_per_user: 5, sprints_per_org: 3 }
load:
  schedule_tolerance: 50ms
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
# The idle CPUs: auto holds them quick to wake on the embedded target where the process may
# write the kernel's QoS device (CI runs as root) and a cpuidle driver would heed it, and says
# why not where it may not or none would; then the request loop keeps its own core awake.
check "the short run held the idle CPUs quick to wake, or says why it could not and kept the loop awake" 0 "^ok$" -- python3 -c '
import json, os, sys
wake = json.load(open(sys.argv[1]))["harness"]["cpu_wake_latency"]
driver_file = "/sys/devices/system/cpu/cpuidle/current_driver"
driver = open(driver_file).read().strip() if os.path.exists(driver_file) else None
may = os.access("/dev/cpu_dma_latency", os.W_OK)
held = wake == {"state": "held", "limit_us": 0}
awake = wake["state"] == "unavailable" and wake.get("loop_awake_us") == 400
refused = awake and "/dev/cpu_dma_latency" in wake["note"]
no_driver = awake and "no cpuidle driver" in wake["note"]
expected = no_driver if driver == "none" else held if may else refused
print("ok" if expected else f"wrong: {wake} (device writable: {may}, cpuidle driver: {driver})")
' "$work/out/report.json"
check "--cpu-wake-latency off leaves the machine alone and the report says so" 0 "^off$" -- bash -c "
'$bin' run '$work/short.yaml' --cpu-wake-latency off --out '$work/wake-off' --quiet >/dev/null 2>&1 || exit \$?
python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[\"harness\"][\"cpu_wake_latency\"][\"state\"])' '$work/wake-off/report.json'"
check "bad --cpu-wake-latency: exit 64 naming the flag" 64 "^stacksim: --cpu-wake-latency: expected auto, off or a whole number of microseconds such as 0us, got 'soon'" -- "$bin" run "$work/short.yaml" --cpu-wake-latency soon

# Virtual time: a minute of a modelled stack simulated in seconds, the same numbers from every process.
cat >"$work/virtual.yaml" <<'YAML'
name: virtual
clock: virtual
dataset: { organizations: 4, users_per_org: 8, tasks_per_user: 5 }
stack:
  embedded:
    mongo: { servers: 2, latency: { exponential: { mean: 3ms } } }
    postgres: { servers: 1, latency: { exponential: { mean: 500us } } }
load:
  phases: [{ name: steady, duration: 60s, rate: 200/s }]
YAML
check "--clock virtual: a minute simulated, the report says so" 0 "time: virtual — 60.0 s simulated" -- "$bin" run "$work/virtual.yaml" --out "$work/virtual-1" --quiet
check "…and another process gives byte-identical operations" 0 "^same$" -- bash -c "
'$bin' run '$work/virtual.yaml' --out '$work/virtual-2' --quiet >/dev/null 2>&1 || exit \$?
python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
same = json.dumps(a[\"operations\"]) == json.dumps(b[\"operations\"]) and a[\"clock\"] == \"virtual\" and a[\"operations\"][0][\"latency_ms\"][\"p50\"] > 0
print(\"same\" if same else \"differ\")
' '$work/virtual-1/report.json' '$work/virtual-2/report.json'"
check "--clock virtual against live servers: exit 64 saying only the embedded stack can" 64 "only the embedded stack can" -- "$bin" run "$work/virtual.yaml" --target live
check "bad --clock: exit 64 naming the flag" 64 "^stacksim: --clock: expected wall or virtual, got 'sim'" -- "$bin" run "$work/short.yaml" --clock sim
check "a virtual run against a wall-time baseline: exit 64, not comparable" 64 "a baseline run in wall time, this run in virtual time" -- "$bin" run "$work/short.yaml" --clock virtual --baseline "$work/out/report.json" --out "$work/virtual-base"
printf 'kind: something-else\n' >"$work/not-a-model.yaml"
check "--model of a missing file: exit 64 naming it" 64 "^stacksim: --model: .*/none.yaml: cannot read the file" -- "$bin" run "$work/short.yaml" --model "$work/none.yaml"
check "--model of another kind of file: exit 64 saying what was expected" 64 "kind: expected stacksim-model, got 'something-else'" -- "$bin" run "$work/short.yaml" --model "$work/not-a-model.yaml"
check "--model with --target live: exit 64 (a projection is virtual time on the embedded stack)" 64 "^stacksim: --model: a projection runs on the embedded stack" -- "$bin" run "$work/short.yaml" --model "$work/not-a-model.yaml" --target live
check "bench with an unknown --calls: exit 64 naming the flag" 64 "^stacksim: --calls: expected some of permission-check, get, board" -- "$bin" bench "$work/short.yaml" --calls foo
check "calibrate against the embedded stack: exit 64" 64 "^stacksim: --target: calibrate measures live servers" -- "$bin" calibrate "$work/short.yaml"
check "calibrate with a loaded rate that is no rate: exit 64 before any server is asked" 64 "^stacksim: --loaded-rate: " -- \
    "$bin" calibrate "$work/short.yaml" --target live --loaded-rate fast --postgres-url postgresql://127.0.0.1:1/none
for f in report.json report.md report.html junit.xml intervals.csv latency.hlog; do
    check "the run wrote $f" 0 "^" -- test -s "$work/out/$f"
done
check "report.json names its target and schema" 0 '"schema_version" : 3' -- grep -E '"schema_version"|"target" : "embedded"' "$work/out/report.json"
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
  schedule_tolerance: 50ms
  phases:
    - { name: warmup, duration: 1s, rate: 50/s, record: false }
    - { name: steady, duration: 8s, rate: 100/s }
  mix: { board: 3, my-tasks: 3, search: 1, members: 1 }
YAML
} >"$work/base.yaml"
sed 's/^dataset:/stack: { embedded: { mongo: { operations: { board: { latency: 4ms } } } } }\ndataset:/' "$work/base.yaml" >"$work/slow.yaml"
"$bin" run "$work/base.yaml" --out "$work/b1" --quiet >/dev/null 2>&1
# The gate is built to flag 1 same-code run in 20 (α = 5 %); a test must not fail that often, so
# the same-code checks ask for α = 0.1 %.
check "a rerun of the same code is not a regression" 0 "short on embedded: PASS" -- "$bin" run "$work/base.yaml" --out "$work/b2" --quiet --baseline "$work/b1/report.json" --alpha 0.001
check "compare agrees, and says what it assumed" 0 "^0 regressions in .*1 baseline run" -- "$bin" compare "$work/b1/report.json" "$work/b2/report.json" --alpha 0.001
check "…with each finding's interval and resolution" 0 "board p50: .*interval .* resolution .*: unchanged" -- "$bin" compare "$work/b1/report.json" "$work/b2/report.json" --alpha 0.001
check "an injected slowdown of board is a regression of board, exit 11" 11 "REGRESSION board p50" -- "$bin" run "$work/slow.yaml" --out "$work/b3" --quiet --baseline "$work/b1/report.json"
# The other operations did not change: at α = 5 % per run, one of them is flagged in about one
# comparison in twenty (a clean clone's did, once), so this one asks for α = 0.1 %.
"$bin" compare "$work/b1/report.json" "$work/b3/report.json" --alpha 0.001 | grep ': regression$' >"$work/regressions"
check "…and of nothing else" 1 "^0$" -- grep -vc "^board " "$work/regressions"
check "junit.xml has a baseline case for it" 0 "board p50 has not regressed" -- grep -A1 "board p50 has not regressed" "$work/b3/junit.xml"
check "compare exits 11 on the regression" 11 "board p50: .*: regression" -- "$bin" compare "$work/b1/report.json" "$work/b3/report.json"
check "baseline update stores the report" 0 "baseline for short: .*, 1 runs" -- "$bin" baseline update "$work/b1/report.json" --directory "$work/baselines"
check "…appends runs, keeping the last --keep" 0 "baseline for short: .*, 2 runs" -- "$bin" baseline update "$work/b2/report.json" "$work/b1/report.json" --directory "$work/baselines" --keep 2
check "a baseline of several runs fits the noise between them" 0 "noise at p50: .*fitted to 2 baseline runs" -- "$bin" compare "$work/baselines/short.json" "$work/b2/report.json" --alpha 0.001
check "…and still finds board's slowdown" 11 "board p50: .*: regression" -- "$bin" compare "$work/baselines/short.json" "$work/b3/report.json"
check "baseline update refuses --keep 0" 64 "--keep: expected 1 or more" -- "$bin" baseline update "$work/b1/report.json" --directory "$work/baselines" --keep 0
check "compare refuses a bad --min-absolute" 64 "--min-absolute: expected a share of p50 like 5% or milliseconds like 0.5ms, got 'soon'" -- "$bin" compare "$work/b1/report.json" "$work/b2/report.json" --min-absolute soon
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
    "$bin" db reset --target live --yes >/dev/null 2>&1
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

# Values beyond what the program can represent or hold, and mistakes: refused before anything runs.
check "a duration past ten years: exit 64 with the bound" 64 "^stacksim: --duration: expected a duration of at most 3650d" -- \
    "$bin" run "$work/short.yaml" --duration 99999999999d --dry-run 3
printf 'name: huge\nload:\n  phases:\n    - { name: a, duration: 99999999999d, rate: 5/s }\n' >"$work/huge.yaml"
check "…in any duration key, located" 64 "huge.yaml:4:.*load.phases\[0\].duration: expected a duration of at most 3650d" -- "$bin" run "$work/huge.yaml"
check "a rate of 1e12/s: exit 64 with the bound" 64 "^stacksim: --rate: expected a rate of at most 1000000/s" -- "$bin" run "$work/short.yaml" --rate 1000000000000/s
printf 'name: many\nload:\n  model: closed\n  phases:\n    - { name: a, duration: 1s, users: 10 }\n' >"$work/many.yaml"
check "10^11 users: exit 64 with the bound" 64 "^stacksim: --users 100000000000: load.phases: expected at most [0-9]+ users" -- \
    "$bin" run "$work/many.yaml" --users 100000000000
printf 'name: heavy\nload:\n  mix: { board: 1e308, members: 1 }\n' >"$work/heavy.yaml"
check "a mix weight of 1e308: exit 64 with the bound" 64 "heavy.yaml:3:.*load.mix.board: expected a number in 0...1000000000" -- "$bin" run "$work/heavy.yaml"
printf 'name: long\ndataset: { organizations: 2, users_per_org: 3, tasks_per_user: 2 }\nload:\n  phases:\n    - { name: warmup, duration: 40h, rate: 0.001/s, record: false }\n    - { name: steady, duration: 1m, rate: 10/s }\n' >"$work/long.yaml"
check "a 40-hour warm-up: --dry-run 3 without a schedule in memory (under 80 MB)" 0 "^ok$" -- \
    bash -c "/usr/bin/time -f %M '$bin' run '$work/long.yaml' --dry-run 3 2>&1 >/dev/null | awk '{ print (\$1 < 80000 ? \"ok\" : \"maxrss \" \$1 \" KB\") }'"
sed 's/^dataset:/stack: { embedded: { mongo: { operations: { bord: { latency: 4ms } } } } }\ndataset:/' "$work/short.yaml" >"$work/bord.yaml"
check "a misspelt store call: exit 64 naming it and the known ones" 64 "unknown key 'bord'; expected one of: .*board" -- "$bin" run "$work/bord.yaml"
check "--out under /proc: exit 64 before the run" 64 "^stacksim: --out: cannot write reports into /proc/x" -- "$bin" run "$work/short.yaml" --out /proc/x
touch "$work/a-file"
check "--out an existing file: exit 64 before the run" 64 "^stacksim: --out: cannot write reports into" -- "$bin" run "$work/short.yaml" --out "$work/a-file"
sed 's/^name: short/name: other/' "$work/base.yaml" >"$work/other.yaml"
"$bin" run "$work/other.yaml" --out "$work/other" --quiet >/dev/null 2>&1
check "compare of two scenarios: exit 64" 64 "a baseline of scenario 'short', not 'other'; pass --allow-other-scenario" -- \
    "$bin" compare "$work/b1/report.json" "$work/other/report.json"
# Same code in both runs: α = 0.1 %, as for the same-code checks above.
check "…unless a flag says it is meant" 0 "regressions in" -- "$bin" compare "$work/b1/report.json" "$work/other/report.json" --allow-other-scenario --alpha 0.001
check "run --baseline of another scenario: exit 64 before the run" 64 "not 'other'" -- "$bin" run "$work/other.yaml" --baseline "$work/b1/report.json" --out "$work/o9"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r['operations']=[]; json.dump(r, open(sys.argv[2],'w'))" "$work/b1/report.json" "$work/empty.json"
check "a baseline with no operations: exit 64" 64 "nothing to compare against" -- "$bin" compare "$work/empty.json" "$work/b2/report.json"
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); r['schema_version']=999; json.dump(r, open(sys.argv[2],'w'))" "$work/b1/report.json" "$work/future.json"
check "a report of an unknown schema version: exit 64" 64 "report schema 999, but this stacksim reads schema 3" -- "$bin" compare "$work/future.json" "$work/b2/report.json"
printf 'name: !!binary aGVsbG8=\n' >"$work/tagged.yaml"
check "a YAML tag the format does not use: exit 64, located" 64 "tagged.yaml:1:.*YAML tag 'tag:yaml.org,2002:binary'" -- "$bin" scenarios --validate "$work/tagged.yaml"
check "scenarios --validate FILE validates that file" 0 "^1 valid, 0 invalid" -- "$bin" scenarios --validate "$work/short.yaml"

# Odd text: well-formed outputs, an escaped terminal, one progress line whatever the names.
printf 'name: "odd\\0\\e[31m\\u202Eeman"\ndataset: { organizations: 2, users_per_org: 3, tasks_per_user: 2 }\nload:\n  phases:\n    - { name: "two\\nlines", duration: 2s, rate: 20/s }\n' >"$work/odd.yaml"
"$bin" run "$work/odd.yaml" --out "$work/odd" >"$work/odd.log" 2>&1
check "NUL and ESC in a name: junit.xml is well-formed XML" 0 "^well-formed$" -- \
    python3 -c "import xml.etree.ElementTree as E,sys; E.parse(sys.argv[1]); print('well-formed')" "$work/odd/junit.xml"
check "…the terminal gets no raw escape" 1 "^" -- grep -aP "\x1b|\x00|\xe2\x80\xae" "$work/odd.log"
check "…but the name, escaped" 0 'odd\\u\{0\}\\u\{1b\}\[31m\\u\{202e\}eman' -- cat "$work/odd.log"
check "…the HTML isolates the right-to-left override" 0 "^isolated$" -- \
    python3 -c "import sys; t=open(sys.argv[1], encoding='utf-8').read(); print('isolated' if '<h1>\u2068' in t and '\u202eeman\u2069</h1>' in t else 'not')" "$work/odd/report.html"
# 12 s: the line at 10 s falls inside the phase (at 10 s of a 10 s run it may already say [drain]).
"$bin" run "$work/odd.yaml" --out "$work/odd2" --duration 12s >"$work/odd2.log" 2>&1
check "a newline in a phase name: still one progress line" 0 "^1$" -- grep -cE '^\[two\\u\{a\}lines\] +10/12 s' "$work/odd2.log"

# Goodput, outages, stops and aborts, against numbers computed from what each run was asked to do.
mkdir -p "$work/edges"
check "goodput under 5x overload, a store failing fast, SIGINT/SIGTERM/abort_on_fail stop within a second" 0 "^edges: 0 failed" -- \
    python3 "$(dirname "$0")/edges.py" "$bin" "$work/edges"

# Capacity searches against answers the Erlang C formula gives, and their edges.
check "capacity: M/M/c known answers, the saturating store, a starved harness, dimensions, bad input, SIGINT" 0 "^capacity: 0 failed" -- \
    python3 "$(dirname "$0")/capacity.py" "$bin" "$work/capacity"

# A few hundred mutated scenarios: each runs or is refused with a located message; none crashes, hangs or grows.
mkdir -p "$work/fuzz"
check "fuzz: mutated scenarios through --validate and a 1-second run" 0 "; 0 failed$" -- python3 "$(dirname "$0")/fuzz.py" "$bin" "$work/fuzz" 300

echo "cli: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
