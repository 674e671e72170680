#!/usr/bin/env bash
# Throughput of single store calls through stacksim's live adapters next to pgbench and
# redis-benchmark, at the same concurrency, in the same run, on the servers of scripts/services.sh.
# Usage: bench/live.sh [SECONDS] [CONNECTIONS...]   (make bench-live starts the servers)
set -euo pipefail
seconds=${1:-5}; shift || true
counts=("$@")
[[ ${#counts[@]} -gt 0 ]] || counts=(1 4 16)
bin=.build/release/stacksim
# URLs already set win; the rest point at scripts/services.sh's servers.
while read -r line; do
    name=${line#export }; name=${name%%=*}
    [[ -n ${!name:-} ]] || eval "$line"
done < <(scripts/services.sh env)
out=$(mktemp -d)
list=$(IFS=,; echo "${counts[*]}")
# Places of the benchmark's own, so it never meets a dataset of the user's runs.
"$bin" bench Scenarios/default.yaml --target live --connections "$list" --duration "${seconds}s" \
    --postgres-schema stacksim_bench --redis-prefix stacksim-bench: --mongo-url "${STACKSIM_MONGO_URL%/*}/stacksim_bench" >"$out/stacksim.txt"
read -r user organization key schema < <(sed -n 's/^PARAMS user=\([^ ]*\) organization=\([^ ]*\) .* key=\([^ ]*\) schema=\([^ ]*\)/\1 \2 \3 \4/p' "$out/stacksim.txt")
# The same SQL as PostgresStore's permission-check, the same parameters, prepared as stacksim does,
# on stacksim's own schema (pgbench gets it first on its search_path, as stacksim's connections do).
export PGOPTIONS="-c search_path=$schema,public"
cat >"$out/permission.sql" <<SQL
SELECT EXISTS (
    SELECT 1 FROM organization_memberships m
    JOIN roles r ON r.organization_id = m.organization_id AND r.key = m.role AND r.active
    JOIN role_permissions rp ON rp.role_id = r.id AND rp.granted
    JOIN permissions p ON p.id = rp.permission_id
    WHERE m.user_id = '$user' AND m.organization_id = '$organization' AND m.active AND p.resource = 'task' AND p.action = 'read');
SQL
redis_port=${STACKSIM_REDIS_URL##*:}
printf '| connections | permission-check: stacksim/s | pgbench tps | GET: stacksim/s | redis-benchmark/s | board (Mongo test server): stacksim/s |\n|---:|---:|---:|---:|---:|---:|\n'
for n in "${counts[@]}"; do
    rate() { sed -n "s/^RESULT call=$1 connections=$n calls=[0-9]* rate=\([0-9]*\)/\1/p" "$out/stacksim.txt"; }
    pg=$(pgbench -n -M prepared -c "$n" -j "$n" -T "$seconds" -f "$out/permission.sql" "$STACKSIM_POSTGRES_URL" 2>/dev/null \
        | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
    rb=$(redis-benchmark -p "$redis_port" -c "$n" -n $((20000 * n)) -q GET "$key" 2>/dev/null | tr '\r' '\n' \
        | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
    printf '| %s | %s | %.0f | %s | %.0f | %s |\n' "$n" "$(rate permission-check)" "$pg" "$(rate get)" "$rb" "$(rate board)"
done
