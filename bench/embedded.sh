#!/usr/bin/env bash
# The embedded stack's cost, two sweeps of Scenarios/default.yaml (release build):
#  1. rising arrival rates at its 30 organizations: what each rate achieved, its latency, the
#     process's CPU per request, the harness's own overhead and whether it kept its schedule —
#     the highest valid rate is the embedded stack's capacity on this machine;
#  2. one rate at 30, 300 and 3,000 organizations: the CPU per request should not grow with
#     the tenants (the last column is the ratio to the first size).
# Both sweep a copy of the scenario whose application rate limit (600 requests per user per
# minute) cannot trip: above about 12,000/s its 557 users pass that limit within the run, and the
# sweep would then time refusals that skip the request's work (and fail the error-rate threshold)
# instead of the stack's capacity. Every request still makes the limit's counter call.
# CPU per request is the process's user + system time during the load (warm-up included)
# divided by the requests sent then; "of it by the clock" is the part the request loop spent
# waiting by the clock for due arrivals (harness.clock_wait_s), punctuality rather than work.
# The runs ask for the machine's idle CPUs as CPU_WAKE_LATENCY says (run's --cpu-wake-latency; auto
# by default: held at 0 µs where the process may, as a plain `stacksim run` does); the line under
# each table says what was held.
# Usage: bench/embedded.sh [SECONDS] [RATES...]   (ORGANIZATIONS="30 300 3000" TENANT_RATE=1000 REPEATS=3 by default)
set -euo pipefail
seconds=${1:-15}; shift || true
rates=(${*:-1000 2000 4000 6000 8000 10000 12000 14000 16000 18000 20000 22000 24000 26000 28000 30000})
sizes=(${ORGANIZATIONS:-30 300 3000})
tenant_rate=${TENANT_RATE:-1000}
repeats=${REPEATS:-3}
wake=${CPU_WAKE_LATENCY:-auto}
bin=.build/release/stacksim
out=$(mktemp -d)
sed 's/^  rate_limit: { per_minute: 600 }/  rate_limit: { per_minute: 10000000 }/' Scenarios/default.yaml >"$out/default.yaml"
grep -q 'per_minute: 10000000 }' "$out/default.yaml" || { echo "bench/embedded.sh: Scenarios/default.yaml has no 'rate_limit: { per_minute: 600 }' line to lift" >&2; exit 1; }

# One run's row: target, achieved/s, board p50/p99, worst p99, CPU µs per request and of it the request loop's waiting
# by the clock for due arrivals, overhead p50/p99 µs, late arrivals, verdict;
# with a third argument, the CPU per request as a ratio to it ("first": to this run's own, then kept in $out/first-cpu).
# The verdict and the two costs also go to <report>.cost, for the sweep's answer.
row() {
    python3 - "$1" "$2" "${3:-}" "$out/first-cpu" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ops = {o["name"]: o for o in r["operations"]}
board = ops["board"]["latency_ms"]
worst = max(ops.values(), key=lambda o: o["latency_ms"]["p99"])
s, h = r["schedule_lag"], r["harness"]
requests = max(1, s["intended"] - r["totals"]["dropped"])
cpu = h["process_cpu_s"] / requests * 1e6
by_clock = h.get("clock_wait_s", 0) / requests * 1e6
o = h.get("overhead_ms") or {"p50": 0, "p99": 0}
open(sys.argv[1] + ".cost", "w").write(f"{r['verdict']} {cpu:.0f} {by_clock:.0f}\n")
if sys.argv[3] == "first":
    open(sys.argv[4], "w").write(str(cpu))
reference = cpu if sys.argv[3] == "first" else float(sys.argv[3] or 0)
base = f" | {cpu / reference:.2f}" if reference else ""
print(f"| {sys.argv[2]} | {r['totals']['throughput_per_s']:.0f} | {board['p50']:.3f} | {board['p99']:.2f} | "
      f"{worst['latency_ms']['p99']:.2f} ({worst['name']}) | {cpu:.0f} | {by_clock:.0f} | {o['p50'] * 1000:.0f} / {o['p99'] * 1000:.0f} | "
      f"{s['late']}/{s['intended']} | {r['verdict']}{base} |")
PY
}
# One run of a scenario (file) at a rate (per second) for the sweep's length, its report into a directory.
run_once() {
    "$bin" run "$1" --duration "${seconds}s" --rate "$2/s" --cpu-wake-latency "$wake" --out "$3" --quiet >/dev/null 2>&1 || true
}
# What a run's report says about the idle CPUs.
wake_line() {
    python3 - "$1" "$wake" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))["harness"].get("cpu_wake_latency") or {}
state = w.get("state", "not reported")
held = f" at {w['limit_us']} µs" if state == "held" else ""
note = f" ({w['note']})" if w.get("note") else ""
print(f"\nIdle CPUs: {state}{held}{note} (CPU_WAKE_LATENCY={sys.argv[2]}).")
PY
}
header='| %s | achieved/s | board p50 ms | board p99 ms | worst p99 ms (operation) | CPU µs/request | of it by the clock | own overhead p50 / p99 µs | late arrivals | verdict%s |\n'
rule='|---:|---:|---:|---:|---:|---:|---:|---:|---:|---%s|\n'

printf "Rates, 30 organizations, %s s each:\n\n" "$seconds"
printf "$header" "target rate/s" ""
printf "$rule" ""
for rate in ${rates[*]}; do
    run_once "$out/default.yaml" "$rate" "$out/rate-$rate"
    row "$out/rate-$rate/report.json" "$rate"
done
# What a rate's runs (their .cost files) say together: how many passed and the spread of the CPU
# per request; exits 1 unless most of them passed.
spread() {
    python3 - "$@" <<'PY'
import statistics, sys
rate, runs = sys.argv[1], [open(path).read().split() for path in sys.argv[2:]]
passed = sum(r[0] == "pass" for r in runs)
values = lambda column: sorted(float(r[column]) for r in runs)
three = lambda v: " / ".join(f"{x:.0f}" for x in (v[0], statistics.median(v), v[-1]))
if 2 * passed <= len(runs):
    print(f"{rate}/s passed {passed} of {len(runs)} runs.")
    sys.exit(1)
print(f"Highest rate that passed most of its runs: {rate}/s ({passed} of {len(runs)}), at {three(values(1))} µs of CPU "
      f"per request (min / median / max), of it by the clock {three(values(2))}.")
PY
}
# The sweep's answer: the highest rate that passes (schedule kept, thresholds met) in most of
# REPEATS runs. Each rate that passed, from the highest down, is run REPEATS-1 times more (the
# table's "again" rows) until one passes most of its runs: near the knee one run passes where
# the next fails, and one run's CPU per request moves by ±15 % on this machine.
passed=()
for rate in ${rates[*]}; do
    read -r verdict _ _ <"$out/rate-$rate/report.json.cost"
    if [ "$verdict" = pass ]; then passed=("$rate" "${passed[@]}"); fi
done
answer="" best=""
for rate in "${passed[@]}"; do
    costs=("$out/rate-$rate/report.json.cost")
    for run in $(seq 2 "$repeats"); do
        run_once "$out/default.yaml" "$rate" "$out/again-$rate-$run"
        row "$out/again-$rate-$run/report.json" "$rate again"
        costs+=("$out/again-$rate-$run/report.json.cost")
    done
    if line=$(spread "$rate" "${costs[@]}"); then answer="$answer$line" best=$rate; break; fi
    answer="$answer$line "
done
if [ -z "$best" ]; then answer="${answer}No rate passed most of its runs."; fi
# When the last rate holds too, the capacity lies above the sweep: say so rather than call it the highest.
if [ "$best" = "${rates[-1]}" ]; then answer="$answer That is the sweep's last rate: the capacity lies above it."; fi
printf "\n%s\n" "$answer"
wake_line "$out/rate-$rate/report.json"

printf "\nOrganizations, %s/s for %s s each:\n\n" "$tenant_rate" "$seconds"
printf "$header" "organizations" " | CPU/request vs the first"
printf "$rule" "|---:"
first=""
for size in "${sizes[@]}"; do
    sed "s/^  organizations: 30 /  organizations: $size /" "$out/default.yaml" >"$out/orgs-$size.yaml"
    run_once "$out/orgs-$size.yaml" "$tenant_rate" "$out/orgs-$size"
    row "$out/orgs-$size/report.json" "$size" "${first:-first}"
    first=$(cat "$out/first-cpu")
done
wake_line "$out/orgs-${sizes[-1]}/report.json"
