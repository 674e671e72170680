#!/usr/bin/env bash
# Single store calls through stacksim's live adapters next to pgbench and redis-benchmark, at the
# same concurrency, in the same run, on the servers of scripts/services.sh: throughput, and the
# client's CPU (user + system) per call, each as stacksim's figure, the C tool's and their ratio.
# With CPU_WAKE_LATENCY=<N>us the machine's idle CPUs are held quick to wake for the whole bench,
# stacksim and the C tools alike (what `stacksim run --cpu-wake-latency` does for a run's load;
# needs root or write access to /dev/cpu_dma_latency); unset or off, the machine is left alone.
# Usage: bench/live.sh [SECONDS] [REPEATS] [CONNECTIONS...]   (make bench-live starts the servers)
set -euo pipefail
seconds=${1:-5}; shift || true
repeats=${1:-3}; shift || true
counts=("$@")
[[ ${#counts[@]} -gt 0 ]] || counts=(1 4 16)
bin=.build/release/stacksim
# URLs already set win; the rest point at scripts/services.sh's servers.
while read -r line; do
    name=${line#export }; name=${name%%=*}
    [[ -n ${!name:-} ]] || eval "$line"
done < <(scripts/services.sh env)
out=$(mktemp -d)
# Places of the benchmark's own, so it never meets a dataset of the user's runs. Deleted when the
# bench ends: the MongoDB test server keeps its data in one file it reloads on a restart, and a
# bench's dataset left there made the live restart test's recovery slower than it allows.
places=(--postgres-schema stacksim_bench --redis-prefix stacksim-bench: --mongo-url "${STACKSIM_MONGO_URL%/*}/stacksim_bench")
holder= seeded=
finish() {
    [[ -z $holder ]] || kill "$holder" 2>/dev/null
    # Only once a bench has run: bad input leaves the servers untouched.
    [[ -z $seeded ]] || "$bin" db reset --target live --yes "${places[@]}" >/dev/null \
        || echo "bench/live.sh: could not delete the bench's data (stacksim db reset --target live --yes ${places[*]})" >&2
}
trap finish EXIT
wake=${CPU_WAKE_LATENCY:-off}
[[ $wake == off || $wake =~ ^[0-9]+us$ ]] || { echo "bench/live.sh: CPU_WAKE_LATENCY: expected off or a whole number of microseconds such as 0us, got '$wake'" >&2; exit 64; }
# Without a cpuidle driver the limit steers nothing: idle CPUs halt whatever it is.
[[ $wake == off || $(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null) != none ]] || wake=no-driver
if [[ $wake != off && $wake != no-driver ]]; then
    # Holds the limit until killed; the kernel drops it when the file closes.
    python3 -c 'import os, signal, struct, sys
fd = os.open("/dev/cpu_dma_latency", os.O_WRONLY)
os.write(fd, struct.pack("i", int(sys.argv[1])))
signal.pause()' "${wake%us}" &
    holder=$!
    sleep 0.5
    kill -0 "$holder" 2>/dev/null || { echo "bench/live.sh: CPU_WAKE_LATENCY=$wake: could not hold /dev/cpu_dma_latency (above)" >&2; exit 77; }
fi
list=$(IFS=,; echo "${counts[*]}")
redis_port=${STACKSIM_REDIS_URL##*:}
# CPU seconds (user + system) of a command, as /usr/bin/time reports them, into $out/cpu.
timed() { /usr/bin/time -f "%U %S" -o "$out/cpu" "$@"; }
cpu() { awk '{ print $1 + $2 }' "$out/cpu"; }
user() { awk '{ print $1 }' "$out/cpu"; }
# Seconds per call, in µs: per SECONDS CALLS.
per() { echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 * 1e6 }'; }
# pgbench's permission checks at CONNECTIONS on THREADS: tps, CPU µs and user µs per transaction.
pgbench_check() {
    timed pgbench -n -M prepared -c "$1" -j "$2" -T "$seconds" "${parameters[@]}" -f "$out/permission.sql" "$STACKSIM_POSTGRES_URL" >"$out/pgbench.txt" 2>/dev/null
    local transactions
    transactions=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out/pgbench.txt")
    echo "$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out/pgbench.txt" | head -1) $(per "$(cpu)" "$transactions") $(per "$(user)" "$transactions")"
}
: >"$out/rows"
seeded=yes
for repeat in $(seq "$repeats"); do
    "$bin" bench Scenarios/default.yaml --target live --connections "$list" --duration "${seconds}s" "${places[@]}" >"$out/stacksim.txt"
    read -r user organization resource action key schema < <(sed -n 's/^PARAMS user=\([^ ]*\) organization=\([^ ]*\) resource=\([^ ]*\) action=\([^ ]*\) key=\([^ ]*\) schema=\([^ ]*\)/\1 \2 \3 \4 \5 \6/p' "$out/stacksim.txt")
    # The same SQL as PostgresStore's permission-check, prepared as stacksim does, on stacksim's
    # own schema (pgbench gets it first on its search_path, as stacksim's connections do), with the
    # same four values sent as the same untyped text parameters each call (`-D` variables become
    # parameters under `-M prepared`). Written into the SQL instead, they would be parsed once at
    # prepare time and planned as constants: 3–11 % more checks a second for pgbench, measured.
    export PGOPTIONS="-c search_path=$schema,public"
    parameters=(-D "user=$user" -D "organization=$organization" -D "resource=$resource" -D "action=$action")
    cat >"$out/permission.sql" <<'SQL'
SELECT EXISTS (
    SELECT 1 FROM organization_memberships m
    JOIN roles r ON r.organization_id = m.organization_id AND r.key = m.role AND r.active
    JOIN role_permissions rp ON rp.role_id = r.id AND rp.granted
    JOIN permissions p ON p.id = rp.permission_id
    WHERE m.user_id = :user AND m.organization_id = :organization AND m.active AND p.resource = :resource AND p.action = :action);
SQL
    for n in "${counts[@]}"; do
        result() { sed -n "s/^RESULT call=$1 connections=$n calls=[0-9]* rate=\([0-9]*\) cpu_us_per_call=\([0-9.]*\) user_us_per_call=\([0-9.]*\)/\1 \2 \3/p" "$out/stacksim.txt"; }
        # pgbench at its strongest, a thread per connection (-j N), then with one thread as
        # stacksim has one I/O thread (and redis-benchmark one): the first is the verdict, the
        # second tells the thread count's part of the rate from the code's.
        read -r pg_tps pg_per pg_user_per < <(pgbench_check "$n" "$n")
        read -r pg1_tps pg1_per _ < <(if ((n > 1)); then pgbench_check "$n" 1; else echo "$pg_tps $pg_per $pg_user_per"; fi)
        read -r ss_pg_rate ss_pg_cpu ss_pg_user < <(result permission-check)
        read -r ss_get_rate ss_get_cpu ss_get_user < <(result get)
        read -r ss_board_rate _ _ < <(result board)
        # As many GETs as stacksim made in its SECONDS (at least 20,000 per connection): a run
        # of a fraction of a second would be measured mostly in /usr/bin/time's 10 ms steps.
        requests=$((ss_get_rate * seconds > 20000 * n ? ss_get_rate * seconds : 20000 * n))
        timed redis-benchmark -p "$redis_port" -c "$n" -n "$requests" -q GET "$key" >"$out/redis.txt" 2>/dev/null
        rb_rate=$(tr '\r' '\n' <"$out/redis.txt" | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1)
        rb_cpu=$(cpu) rb_user=$(user)
        echo "$repeat $n $ss_pg_rate $ss_pg_cpu $pg_tps $pg_per $ss_get_rate $ss_get_cpu $rb_rate $(per "$rb_cpu" "$requests") \
$ss_board_rate $ss_pg_user $pg_user_per $ss_get_user $(per "$rb_user" "$requests") $pg1_tps $pg1_per" >>"$out/rows"
    done
done
python3 - "$out/rows" "$wake" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
def spread(values, digits=0):
    values = sorted(values)
    f = f"{{:.{digits}f}}"
    return " / ".join(f.format(v) for v in (values[0], statistics.median(values), values[-1]))
print(f"{len({r[0] for r in rows})} repetitions; each cell: min / median / max. CPU: user + system µs per call "
      "(stacksim: its whole process; pgbench per transaction; redis-benchmark per request). Idle CPUs: "
      + {"off": "left alone", "no-driver": "left alone (CPU_WAKE_LATENCY asked for a limit, but this machine has no cpuidle driver: "
         "idle CPUs halt whatever the limit)"}.get(sys.argv[2], f"held to wake within {sys.argv[2][:-2]} µs for the whole bench") + ".\n")
print("| connections | check/s stacksim | pgbench tps | ratio | CPU µs stacksim | pgbench | ratio "
      "| GET/s stacksim | redis-benchmark | ratio | CPU µs stacksim | redis-benchmark | ratio | board/s (test server) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
groups = {n: [[float(x) for x in r[2:]] for r in rows if int(r[1]) == n] for n in sorted({int(r[1]) for r in rows})}
def cell(group, i, digits=0):
    return spread([g[i] for g in group], digits)
def ratio(group, a, b):
    # A C tool's time under /usr/bin/time's 10 ms step can read 0: no ratio then.
    pairs = [(g[a], g[b]) for g in group]
    return spread([x / y for x, y in pairs], 2) if all(y for _, y in pairs) else "–"
for n, g in groups.items():
    print(f"| {n} | {cell(g, 0)} | {cell(g, 2)} | {ratio(g, 0, 2)} | {cell(g, 1, 1)} | {cell(g, 3, 1)} "
          f"| {ratio(g, 1, 3)} | {cell(g, 4)} | {cell(g, 6)} | {ratio(g, 4, 6)} | {cell(g, 5, 1)} "
          f"| {cell(g, 7, 1)} | {ratio(g, 5, 7)} | {cell(g, 8)} |")
print("\nOf that, user space (the kernel's share is the same round trips for both: the client's own code is the rest):\n")
print("| connections | check user µs stacksim | pgbench | ratio | GET user µs stacksim | redis-benchmark | ratio |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for n, g in groups.items():
    print(f"| {n} | {cell(g, 9, 1)} | {cell(g, 10, 1)} | {ratio(g, 9, 10)} | {cell(g, 11, 1)} | {cell(g, 12, 1)} | {ratio(g, 11, 12)} |")
print("\nThe check against pgbench with one thread (-j 1; stacksim has one I/O thread, redis-benchmark one; at one connection the same run as above):\n")
print("| connections | check/s stacksim | pgbench -j 1 tps | ratio | CPU µs stacksim | pgbench -j 1 | ratio |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for n, g in groups.items():
    print(f"| {n} | {cell(g, 0)} | {cell(g, 13)} | {ratio(g, 0, 13)} | {cell(g, 1, 1)} | {cell(g, 14, 1)} | {ratio(g, 1, 14)} |")
PY
