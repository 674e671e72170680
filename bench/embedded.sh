#!/usr/bin/env bash
# Throughput sweep of the embedded stack: runs Scenarios/default.yaml (release build) at rising
# arrival rates and tabulates what each rate achieved, its latency, the cores the process kept
# busy and whether the harness kept its schedule. The highest valid rate is the embedded
# stack's capacity on this machine.
# Usage: bench/embedded.sh [SECONDS] [RATES...]
set -euo pipefail
seconds=${1:-15}; shift || true
rates=("${@:-500 1000 2000 3000 4000}")
bin=.build/release/stacksim
out=$(mktemp -d)
printf '| target rate/s | achieved/s | board p50 ms | board p99 ms | worst p99 ms (operation) | cores busy | late arrivals | verdict |\n|---:|---:|---:|---:|---:|---:|---:|---|\n'
for rate in ${rates[*]}; do
    "$bin" run Scenarios/default.yaml --duration "${seconds}s" --rate "${rate}/s" --out "$out/$rate" --quiet >/dev/null 2>&1 || true
    python3 - "$out/$rate/report.json" "$rate" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ops = {o["name"]: o for o in r["operations"]}
board = ops["board"]["latency_ms"]
worst = max(ops.values(), key=lambda o: o["latency_ms"]["p99"])
s = r["schedule_lag"]
print(f"| {sys.argv[2]} | {r['totals']['throughput_per_s']:.0f} | {board['p50']:.3f} | {board['p99']:.2f} | "
      f"{worst['latency_ms']['p99']:.2f} ({worst['name']}) | {r['harness']['cores_used']:.2f} | {s['late']}/{s['intended']} | {r['verdict']} |")
PY
done
