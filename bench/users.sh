#!/usr/bin/env bash
# Memory per simulated user: closed-model runs of idle users (think time 60 s on average) on the
# default scenario's dataset, at rising user counts; the peak resident memory of each run, and
# the memory each added user cost against the smallest run.
# Usage: bench/users.sh [USERS...]   (default 1000 10000 100000)
set -euo pipefail
counts=("${@:-1000 10000 100000}")
bin=.build/release/stacksim
out=$(mktemp -d)
printf '| users | peak RSS MiB | KiB per user added (vs the first) |\n|---:|---:|---:|\n'
first_users=""; first_kib=""
for users in ${counts[*]}; do
    # The default scenario's dataset, stack and mix; its load replaced by idle users.
    sed '/^load:/,$d' Scenarios/default.yaml >"$out/users.yaml"
    cat >>"$out/users.yaml" <<YAML
load:
  model: closed
  think_time: { exponential: { mean: 60s } }
  phases:
    - { name: idle, duration: 10s, users: $users }
YAML
    sed -n '/^  mix:/,/^$/p' Scenarios/default.yaml >>"$out/users.yaml"
    /usr/bin/time -f "%M" -o "$out/rss" "$bin" run "$out/users.yaml" --out "$out/run-$users" --quiet >/dev/null 2>&1 || true
    kib=$(cat "$out/rss")
    if [[ -z $first_users ]]; then first_users=$users; first_kib=$kib; per="–"
    else per=$(awk -v a="$kib" -v b="$first_kib" -v u="$users" -v f="$first_users" 'BEGIN { printf "%.2f", (a - b) / (u - f) }'); fi
    printf '| %s | %.0f | %s |\n' "$users" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$per"
done
