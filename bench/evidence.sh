#!/usr/bin/env bash
# What asking the stores for their own account of a run costs: the same closed-model live run
# (users without think time, so throughput is what the stack gives; PostgreSQL and Redis
# operations, as the MongoDB test server would set the pace) with and without
# --no-server-evidence, in ABBA order on a freshly loaded dataset each, on the servers of
# scripts/services.sh.
# Usage: bench/evidence.sh [PAIRS] [SECONDS]   (make bench-evidence starts the servers)
set -euo pipefail
pairs=${1:-3}; seconds=${2:-20}
bin=.build/release/stacksim
while read -r line; do
    name=${line#export }; name=${name%%=*}
    [[ -n ${!name:-} ]] || eval "$line"
done < <(scripts/services.sh env)
out=$(mktemp -d)
cat >"$out/evidence.yaml" <<YAML
name: evidence-overhead
dataset: { organizations: 40, users_per_org: 20, tasks_per_user: 5 }
stack: { rate_limit: { per_minute: 10000000 } }
load:
  model: closed
  think_time: 0s
  phases:
    - { name: warmup, duration: 3s, users: 16, record: false }
    - { name: steady, duration: ${seconds}s, users: 16 }
  mix: { permission-check: 1, members: 1 }
YAML
# Places of the benchmark's own, so it never meets a dataset of the user's runs.
places=(--postgres-schema stacksim_bench --redis-prefix stacksim-bench: --mongo-url "${STACKSIM_MONGO_URL%/*}/stacksim_bench")
goodput() { python3 -c 'import json,sys; print("%.1f" % json.load(open(sys.argv[1]))["totals"]["throughput_per_s"])' "$1/report.json"; }
run() { # run with|without PAIR
    "$bin" db reset --target live "${places[@]}" --yes >/dev/null
    "$bin" run "$out/evidence.yaml" --target live "${places[@]}" --quiet --out "$out/$1-$2" \
        $([[ $1 == without ]] && echo --no-server-evidence) >/dev/null
}
for pair in $(seq "$pairs"); do
    if (( pair % 2 )); then run with "$pair"; run without "$pair"; else run without "$pair"; run with "$pair"; fi
    echo "pair $pair: with evidence $(goodput "$out/with-$pair")/s, without $(goodput "$out/without-$pair")/s"
done
python3 - "$out" "$pairs" <<'PY'
import json, statistics, sys
out, pairs = sys.argv[1], int(sys.argv[2])
def rates(kind): return [json.load(open(f"{out}/{kind}-{i}/report.json"))["totals"]["throughput_per_s"] for i in range(1, pairs + 1)]
with_, without = rates("with"), rates("without")
change = statistics.median(with_) / statistics.median(without) - 1
report = json.load(open(f"{out}/with-{pairs}/report.json"))["server"]
shares = ", ".join(f"{s['store']} {s['server_share_of_client_time'] * 100:.1f}%" for s in report["stores"] if s.get("server_share_of_client_time") is not None)
print(f"median goodput with evidence {statistics.median(with_):.1f}/s, without {statistics.median(without):.1f}/s: {change * 100:+.2f}%")
print(f"server time as a share of the callers' time for the same calls: {shares}")
PY
"$bin" db reset --target live "${places[@]}" --yes >/dev/null
