#!/usr/bin/env bash
# The regression gate's power and false-alarm rate on Scenarios/ci-regression.yaml at its shipped
# length, on this machine, the way CI uses it: a stored baseline of several runs, then runs made
# minutes later and judged against it with the default limits.
#   - same code: how many runs are flagged at all (false alarms);
#   - board slowed by a fixed delay of 5, 10, 20 and 50 % of its baseline p99 (the embedded
#     MongoDB's `board` call): how many runs are flagged, naming board and only board;
#   - every store slowed alike: reported as drift, not as a regression of each operation.
# Usage: bench/gate.sh [RUNS_AT_10_PERCENT_AND_SAME_CODE] [RUNS_PER_OTHER_LEVEL] [BASELINE_RUNS]
#        (default 20 8 5). Prints a Markdown table; the reports stay in Reports/bench-gate/<time>/.
#        bench/gate.sh --judge DIR [COMPARE FLAGS...] judges the runs of an earlier call again
#        (e.g. with other limits), without running anything.
set -euo pipefail
bin=.build/release/stacksim
scenario=Scenarios/ci-regression.yaml

# Judges every run in $out against the stored baseline with `compare` and prints the table.
judge() { # DIR [COMPARE FLAGS...]
    local out=$1; shift
    for report in "$out"/level-*/report.json; do
        "$bin" compare "$out/baselines/ci-regression.json" "$report" "$@" >"${report%/report.json}.judged" 2>&1 || true
    done
    python3 - "$out" <<'PY'
import glob, json, math, os, re, sys

out = sys.argv[1]
runs = json.load(open(os.path.join(out, "baselines", "ci-regression.json")))["runs"]
p99s = [op["latency_ms"]["p99"] for r in runs for op in r["operations"] if op["name"] == "board"]
board_p99_us = round(1000 * math.exp(sum(map(math.log, p99s)) / len(p99s)))
print(f"Reports in {out}; {len(runs)} baseline runs; board's baseline p99 {board_p99_us} µs.\n")
print("| injected | runs | flagged | board, and only board | board p50 change (median) | board p99 change (median) | other operations flagged | drift reported |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
finding = re.compile(r"^(\S+) (p50|p99): .*\(([+-][0-9.]+)% beyond the run's shift.*: (regression|improvement|unchanged)$")
def median(xs):
    xs = sorted(xs)
    return f"{xs[len(xs) // 2]:+.1f} %" if xs else "–"
levels = sorted({os.path.basename(d).rsplit("-", 1)[0] for d in glob.glob(os.path.join(out, "level-*")) if os.path.isdir(d)},
                key=lambda l: (l == "level-drift", int(l.split("-")[1]) if l.split("-")[1].isdigit() else 0))
for level in levels:
    judged = sorted(glob.glob(os.path.join(out, f"{level}-*.judged")))
    flagged = only_board = others = drifted = 0
    p50, p99 = [], []
    for path in judged:
        lines = open(path).read().splitlines()
        regressed = set()
        for line in lines:
            m = finding.match(line)
            if not m: continue
            if m.group(4) == "regression": regressed.add(m.group(1))
            if m.group(1) == "board": (p50 if m.group(2) == "p50" else p99).append(float(m.group(3)))
        flagged += bool(regressed)
        only_board += regressed == {"board"}
        others += bool(regressed - {"board"})
        drifted += any(l.startswith("run-wide shift") and not l.endswith("steady") for l in lines)
    name = level.split("-", 1)[1]
    knob = open(os.path.join(out, f"{level}.knob")).read().strip() if os.path.exists(os.path.join(out, f"{level}.knob")) else ""
    label = {"0": "nothing (same code)"}.get(name, f"{knob}")
    print(f"| {label} | {len(judged)} | {flagged} | {only_board} | {median(p50)} | {median(p99)} | {others} | {drifted} |")
PY
}

if [[ ${1:-} == --judge ]]; then shift; judge "$@"; exit; fi
main_runs=${1:-20}; other_runs=${2:-8}; baseline_runs=${3:-5}
out=Reports/bench-gate/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"

# A variant of the scenario with `embedded` knobs added to its stack section.
variant() { # NAME KNOBS
    sed "s/^  sprint_length: \(.*\)$/  sprint_length: \1\n  embedded: $2/" "$scenario" >"$out/$1.yaml"
    grep -q "^  embedded: " "$out/$1.yaml" || { echo "bench/gate.sh: cannot add knobs to $scenario" >&2; exit 1; }
}

run() { # NAME SCENARIO
    "$bin" run "$2" --out "$out/$1" --quiet >"$out/$1.log" 2>&1 || true
    [[ -f $out/$1/report.json ]] || { echo "bench/gate.sh: $1 wrote no report (see $out/$1.log)" >&2; exit 1; }
}

echo "baseline: $baseline_runs runs of $scenario" >&2
for i in $(seq 1 "$baseline_runs"); do
    run "baseline-$i" "$scenario"
    "$bin" baseline update "$out/baseline-$i/report.json" --directory "$out/baselines" --keep "$baseline_runs" >/dev/null
done
board_p99_us=$(python3 -c '
import json, math, sys
runs = json.load(open(sys.argv[1]))["runs"]
values = [op["latency_ms"]["p99"] for r in runs for op in r["operations"] if op["name"] == "board"]
print(round(1000 * math.exp(sum(map(math.log, values)) / len(values))))' "$out/baselines/ci-regression.json")
echo "board p99 in the baseline: $board_p99_us µs" >&2

# Each level's runs; the knob that makes it, in words, beside them.
for level in 0 5 10 20 50 drift; do
    count=$other_runs
    [[ $level == 0 || $level == 10 ]] && count=$main_runs
    case $level in
        0) file=$scenario ;;
        drift) count=3; variant drift "{ postgres: { latency: 1us }, mongo: { latency: 1us }, redis: { latency: 1us } }"; file=$out/drift.yaml
               echo "every store call +1 µs (with the wait's own cost, ~6 µs: every operation ~30 % slower)" >"$out/level-drift.knob" ;;
        *) delay=$((board_p99_us * level / 100)); variant "slow-$level" "{ mongo: { operations: { board: { latency: ${delay}us } } } }"
           file=$out/slow-$level.yaml; echo "board +$level % of its p99 (a fixed $delay µs)" >"$out/level-$level.knob" ;;
    esac
    echo "level $level: $count runs" >&2
    for i in $(seq 1 "$count"); do run "level-$level-$i" "$file"; done
done
judge "$out"
