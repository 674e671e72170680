# Live-target checks, sourced by run.sh with the servers of scripts/services.sh up: stacksim
# touches nothing it did not create, and no password leaves in any output.
pg_port=${STACKSIM_PG_PORT:-55432} redis_port=${STACKSIM_REDIS_PORT:-56379} mongo_port=${STACKSIM_MONGO_PORT:-57017}
psql_app() { PGPASSWORD=stacksim psql -q -X -h 127.0.0.1 -p "$pg_port" -U stacksim -d stacksim "$@"; }

# Another application's data beside stacksim's places: tables named like the seed's in `public`,
# keys named like stacksim's own without its prefix, a MongoDB database with a `tasks` collection.
psql_app -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS public.users, public.organizations" \
    -c "CREATE TABLE public.organizations (id int PRIMARY KEY, name text)" \
    -c "CREATE TABLE public.users (id int PRIMARY KEY, email text, organization_id int REFERENCES public.organizations)" \
    -c "INSERT INTO public.organizations VALUES (1, 'Their org'), (2, 'Another')" \
    -c "INSERT INTO public.users SELECT g, 'user' || g || '@their.app', 1 + g % 2 FROM generate_series(1, 500) g"
redis-cli -p "$redis_port" mset "session:theirs" "u1" "task_stats:org1" "{}" >/dev/null
redis-cli -p "$redis_port" rpush "queue:snapshot_sync:0" "their job" >/dev/null
redis-cli -p "$redis_port" hset "app:user:1" name Ann >/dev/null
/usr/bin/python3 - "$mongo_port" <<'PY'
import sys, pymongo
db = pymongo.MongoClient(f"mongodb://127.0.0.1:{sys.argv[1]}").app
db.tasks.drop()
db.tasks.insert_many([{"_id": i, "title": f"their task {i}", "status": "todo"} for i in range(200)])
PY
fingerprint() {
    pg_dump -h 127.0.0.1 -p "$pg_port" -U stacksim -n public --no-owner stacksim | grep -vE '^(--|\\(un)?restrict )' | md5sum
    for key in $(redis-cli -p "$redis_port" --scan | grep -v '^stacksim' | sort); do
        echo "$key $(redis-cli -p "$redis_port" --no-raw dump "$key")"
    done | md5sum
    /usr/bin/python3 - "$mongo_port" <<'PY' | md5sum
import sys, pymongo
client = pymongo.MongoClient(f"mongodb://127.0.0.1:{sys.argv[1]}")
for name in sorted(client.app.list_collection_names()):
    for doc in client.app[name].find().sort("_id"):
        print(name, sorted(doc.items()))
PY
}
PGPASSWORD=stacksim fingerprint >"$work/foreign.before"
"$bin" run "$work/short.yaml" --target live --rate 20/s --out "$work/own1" --quiet >"$work/own1.log" 2>&1
"$bin" db seed "$work/short.yaml" --target live >"$work/own2.log" 2>&1
"$bin" db reset --target live --yes >"$work/own3.log" 2>&1
PGPASSWORD=stacksim fingerprint >"$work/foreign.after"
check "a live run, db seed and db reset --yes leave another application's tables, keys and collection byte-for-byte as they were" \
    0 "^" -- cmp "$work/foreign.before" "$work/foreign.after"
check "…while they did their work" 0 "deleted stacksim's" -- cat "$work/own1.log" "$work/own2.log" "$work/own3.log"
check "a MongoDB database holding a collection stacksim did not create is refused, exit 64" 64 \
    "database 'app' .* holds 1 collection\(s\) \(tasks\) that stacksim did not create" -- \
    "$bin" run "$work/short.yaml" --target live --mongo-url "mongodb://127.0.0.1:$mongo_port/app" --quiet
check "a PostgreSQL schema holding tables stacksim did not create is refused, exit 64" 64 "schema 'public' .* holds 2 table" -- \
    "$bin" db seed "$work/short.yaml" --target live --postgres-schema public
check "db reset leaves such places alone" 0 "left alone: database 'app'" -- \
    "$bin" db reset --target live --yes --mongo-url "mongodb://127.0.0.1:$mongo_port/app"
PGPASSWORD=stacksim fingerprint >"$work/foreign.after2"
check "…and they are still as they were" 0 "^" -- cmp "$work/foreign.before" "$work/foreign.after2"
sed 's/seed: 42/seed: 43/; s/^name: short/name: short\nseed: 43/' "$work/short.yaml" >"$work/other.yaml"
"$bin" db seed "$work/short.yaml" --target live >/dev/null 2>&1
check "stacksim's own places holding another dataset: refused, exit 64, saying what to do" 64 "db seed SCENARIO" -- \
    "$bin" run "$work/other.yaml" --target live --quiet
"$bin" db reset --target live --yes >/dev/null 2>&1
psql_app -c "DROP TABLE public.users, public.organizations"
redis-cli -p "$redis_port" del "session:theirs" "task_stats:org1" "queue:snapshot_sync:0" "app:user:1" >/dev/null

# Another application's objects that lean on what stacksim made in its schema — a view over one of
# its tables, an index using the operators of the pg_trgm it installs where none was (moved there
# here, should an earlier schema hold it) — stop db reset before it deletes anything.
"$bin" db seed "$work/short.yaml" --target live >/dev/null 2>&1
[[ $(psql_app -Atc "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'pg_trgm'") == stacksim ]] \
    || psql_app -c "ALTER EXTENSION pg_trgm SET SCHEMA stacksim"
psql_app -c "CREATE VIEW public.their_emails AS SELECT email FROM stacksim.users"
check "db reset refuses, exit 64, when another application's view reads stacksim's table" 64 \
    "nothing deleted in schema 'stacksim'.*view their_emails depends on table users" -- "$bin" db reset --target live --yes
psql_app -c "DROP VIEW public.their_emails" -c "CREATE TABLE public.their_names (name text)" \
    -c "CREATE INDEX their_names_trgm ON public.their_names USING gin (name stacksim.gin_trgm_ops)"
check "…or another application's index uses the trigram operators stacksim installed" 64 \
    "nothing deleted in schema 'stacksim'.*their_names_trgm depends on operator class gin_trgm_ops" -- "$bin" db reset --target live --yes
check "…and leaves stacksim's tables as they were" 0 "^[1-9]" -- psql_app -Atc "SELECT count(*) FROM stacksim.users"
psql_app -c "DROP TABLE public.their_names"
# Another schema of stacksim's whose index uses that pg_trgm: it takes the extension over.
heir=(--postgres-schema stacksim_heir --redis-prefix stacksim_heir: --mongo-url "mongodb://127.0.0.1:$mongo_port/stacksim_heir")
"$bin" db init --target live "${heir[@]}" >/dev/null 2>&1
check "without them, db reset deletes stacksim's schema" 0 "deleted stacksim's schema 'stacksim'" -- "$bin" db reset --target live --yes
check "…handing the pg_trgm it installed to the stacksim schema that uses it" 0 "^stacksim_heir$" -- \
    psql_app -Atc "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'pg_trgm'"
check "…whose trigram index still stands" 0 "^1$" -- \
    psql_app -Atc "SELECT count(*) FROM pg_indexes WHERE schemaname = 'stacksim_heir' AND indexname = 'users_name_trgm'"
"$bin" db reset --target live --yes "${heir[@]}" >/dev/null 2>&1
check "the last of stacksim's schemas to hold it drops it with its own" 0 "^0$" -- psql_app -Atc "SELECT count(*) FROM pg_extension e
    JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm' AND n.nspname IN ('stacksim_heir', 'stacksim')"
# In a schema stacksim did not create, the pg_trgm it installed there goes with its tables, unless
# others' objects have come to use it. A database of the checks' own, where no schema holds pg_trgm.
psql_app -c "DROP DATABASE IF EXISTS stacksim_trgm" -c "CREATE DATABASE stacksim_trgm"
psql_trgm() { psql_app -d stacksim_trgm "$@"; } # the last -d wins
theirs=(--postgres-url "postgresql://stacksim:stacksim@127.0.0.1:$pg_port/stacksim_trgm" --postgres-schema their_schema
        --redis-prefix stacksim_trgm: --mongo-url "mongodb://127.0.0.1:$mongo_port/stacksim_trgm")
psql_trgm -c "CREATE SCHEMA their_schema"
"$bin" db init --target live "${theirs[@]}" >/dev/null 2>&1
check "in a schema stacksim did not create, it installs pg_trgm and says so on its marker" 0 "^their_schema true$" -- \
    psql_trgm -Atc "SELECT e.extnamespace::regnamespace || ' ' || m.owns_trigram FROM pg_extension e, their_schema.stacksim_marker m
                    WHERE e.extname = 'pg_trgm'"
psql_trgm -c "CREATE TABLE their_schema.their_names (name text)" \
    -c "CREATE INDEX their_names_trgm ON their_schema.their_names USING gin (name their_schema.gin_trgm_ops)"
check "db reset there keeps the pg_trgm their index has come to use, and says why" 0 \
    "deleted stacksim's schema 'their_schema'.*kept the pg_trgm it installed.*their_names_trgm" -- "$bin" db reset --target live --yes "${theirs[@]}"
check "…their index stands, stacksim's tables are gone" 0 "^1[|]0$" -- psql_trgm -Atc "SELECT
    (SELECT count(*) FROM pg_indexes WHERE schemaname = 'their_schema' AND indexname = 'their_names_trgm'),
    (SELECT count(*) FROM pg_tables WHERE schemaname = 'their_schema' AND tablename <> 'their_names')"
psql_trgm -c "DROP TABLE their_schema.their_names" -c "DROP EXTENSION pg_trgm"
"$bin" db init --target live "${theirs[@]}" >/dev/null 2>&1
"$bin" db reset --target live --yes "${theirs[@]}" >/dev/null 2>&1
check "…and when nothing else uses it, db reset drops it, leaving their schema" 0 "^0[|]1$" -- psql_trgm -Atc "SELECT
    (SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'), (SELECT count(*) FROM pg_namespace WHERE nspname = 'their_schema')"
psql_app -c "DROP DATABASE stacksim_trgm"

# Two stacksims on the same places take turns (an advisory lock per place, on PostgreSQL): a
# command waits for whoever holds them, up to --wait-for-places, and touches nothing past it.
hold_places() { # hold_places SECONDS [PLACE]: another client holds the lock on PLACE (the default schema) that long
    PGAPPNAME=their_app psql_app -c "SELECT pg_advisory_lock(hashtextextended('stacksim places: ' || \$\$${2:-schema stacksim}\$\$, 0)), pg_sleep($1)" \
        >/dev/null 2>&1 &
    sleep 0.5
}
let_go() { psql_app -Atc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'their_app'" >/dev/null; }
hold_places 3
check "db seed waits for another holder of its places, saying who and how long, then loads" 0 \
    "places: their_app at backend [0-9]+ is using schema stacksim; waiting up to 300 s for it" -- "$bin" db seed "$work/short.yaml" --target live
hold_places 60
check "…and past --wait-for-places gives up, exit 64, touching nothing" 64 "kept schema stacksim for more than 2 s; nothing was touched" -- \
    "$bin" db reset --target live --yes --wait-for-places 2s
check "…so the dataset is still there" 0 "^[1-9]" -- psql_app -Atc "SELECT count(*) FROM stacksim.users"
let_go
# A server's address spelt another way (a host name, a default database) names the same places.
hold_places 60 "keys 'stacksim:*' in database 0 of redis 127.0.0.1:$redis_port"
check "the Redis place spelt redis://LocalHost:PORT/0 is the one of 127.0.0.1: db reset waits for its holder" 64 \
    "kept keys 'stacksim:\*' in database 0 of redis 127.0.0.1:$redis_port for more than 2 s" -- \
    "$bin" db reset --target live --yes --wait-for-places 2s --redis-url "redis://LocalHost:$redis_port/0"
let_go
hold_places 60 "database 'stacksim' of mongodb 127.0.0.1:$mongo_port"
check "…and the MongoDB place spelt mongodb://localhost:PORT" 64 \
    "kept database 'stacksim' of mongodb 127.0.0.1:$mongo_port for more than 2 s" -- \
    "$bin" db reset --target live --yes --wait-for-places 2s --mongo-url "mongodb://localhost:$mongo_port/stacksim"
let_go
"$bin" run "$work/short.yaml" --target live --rate 20/s --out "$work/side1" --quiet >"$work/side1.log" 2>&1 &
first=$!
sleep 1.5
"$bin" run "$work/short.yaml" --target live --rate 20/s --out "$work/side2" --quiet >"$work/side2.log" 2>&1
second=$?
wait "$first"
first=$?
check "two runs of one dataset go side by side, sharing the places: both pass" 0 "^0 0$" -- echo "$first" "$second"
check "…the second without waiting for the first" 1 "^" -- grep "waiting up to" "$work/side2.log"
check "…each with a run number of its own, both counted on the marker" 0 "^runs before 0 1, marker 2$" -- python3 -c '
import json, sys
before = sorted(json.load(open(f"{d}/report.json"))["dataset"]["runs_before"] for d in sys.argv[1:3])
print("runs before", *before, end=", ")
print("marker", json.loads(sys.argv[3])["runs"])' "$work/side1" "$work/side2" "$(psql_app -Atc "SELECT text FROM stacksim.stacksim_marker")"
"$bin" db reset --target live --yes >/dev/null 2>&1

# Passwords in every form each store's address takes: never in stdout, stderr or a report.
secret=S3cretPw0rd
pg="127.0.0.1:$pg_port"
leak_check() { # leak_check NAME EXPECTED_EXIT FLAG URL
    local out="$work/secret-$1" code
    "$bin" run "$work/short.yaml" --target live --rate 10/s --duration 1s --out "$out" --quiet "$3" "$4" >"$out.log" 2>&1; code=$?
    check "$1: exit $2" 0 "^exit $2\$" -- echo "exit $code"
    [[ $code -eq $2 ]] || sed 's/^/     /' "$out.log" | head -5
    check "$1: the password appears in no output or report" 1 "^" -- grep -rl "$secret" "$out.log" "$out"
    check "$1: the output is readable text (valid UTF-8, no control characters)" 0 "^" -- python3 -c \
        'import sys; t = open(sys.argv[1], "rb").read().decode("utf-8"); sys.exit(any(ord(c) < 32 and c not in "\n\t" for c in t))' "$out.log"
    "$bin" db reset --target live --yes >/dev/null 2>&1
}
leak_check "postgres URL with a password" 0 --postgres-url "postgresql://stacksim:$secret@$pg/stacksim"
leak_check "postgres key-value conninfo" 0 --postgres-url "host=127.0.0.1 port=$pg_port user=stacksim password=$secret dbname=stacksim"
leak_check "postgres ?password= parameter" 0 --postgres-url "postgresql://stacksim@$pg/stacksim?password=$secret"
leak_check "postgres URL with a bad port" 64 --postgres-url "postgresql://stacksim:$secret@127.0.0.1:abc/stacksim"
leak_check "postgres wrong password on an unreachable host" 69 --postgres-url "postgresql://stacksim:$secret@127.0.0.1:1/stacksim"
leak_check "redis URL with a password the server refuses" 69 --redis-url "redis://:$secret@127.0.0.1:$redis_port"
leak_check "redis URL with a bad port" 64 --redis-url "redis://:$secret@127.0.0.1:abc"
leak_check "redis unreachable" 69 --redis-url "redis://:$secret@127.0.0.1:1"
check "…with its reason in words" 0 "Connection refused" -- cat "$work/secret-redis unreachable.log"
leak_check "mongo URL with credentials the server refuses" 69 --mongo-url "mongodb://app:$secret@127.0.0.1:$mongo_port/stacksim"
leak_check "mongo URL with a bad port" 64 --mongo-url "mongodb://app:$secret@127.0.0.1:abc/stacksim"
leak_check "mongo unreachable" 69 --mongo-url "mongodb://app:$secret@127.0.0.1:1/stacksim"

# A load cut short (the process killed while the dataset loads) leaves places marked as not
# loaded: the next run loads them again instead of taking a half-loaded dataset as whole. What is
# checked is the dataset, not the schedule: one arrival of the 42 dispatched 10.3 ms late (a
# debug build on two cores shared with the servers) made a clean clone's run invalid, so up to
# 10 % may be late here.
"$bin" db reset --target live --yes >/dev/null 2>&1
printf 'name: cut\ndataset: { organizations: 30, users_per_org: 20, tasks_per_user: 10 }\nload:\n  max_late_fraction: 10%%\n  phases:\n    - { name: steady, duration: 2s, rate: 20/s }\n' >"$work/cut.yaml"
"$bin" run "$work/cut.yaml" --target live --quiet --out "$work/cut1" >"$work/cut1.log" 2>&1 &
cut_pid=$!
for _ in $(seq 100); do grep -q "dataset: loading into" "$work/cut1.log" && break; sleep 0.05; done
sleep 0.5
kill -9 "$cut_pid"; wait "$cut_pid" 2>/dev/null
check "a run killed while loading leaves no dataset a later run would reuse" 0 "dataset: loading into mongo, postgres, redis" -- \
    "$bin" run "$work/cut.yaml" --target live --quiet --out "$work/cut2"
check "…and that run passes on the dataset it loaded" 0 '"verdict" : "pass"' -- grep '"verdict"' "$work/cut2/report.json"
"$bin" db reset --target live --yes >/dev/null 2>&1

# Server evidence from PostgreSQL: per statement, the server's call count agrees exactly with
# stacksim's own; the plans of the permission check and the member list name their indexes
# (a dataset large enough that the planner prefers them).
printf 'name: evidence\ndataset: { organizations: 40, users_per_org: 20, tasks_per_user: 1 }\nload:\n  schedule_tolerance: 50ms\n  phases:\n    - { name: steady, duration: 3s, rate: 40/s }\n  mix: { members: 1, board: 1, update-profile: 1 }\n' >"$work/evidence.yaml"
"$bin" db reset --target live --yes >/dev/null 2>&1
check "a live run with server evidence passes" 0 "evidence on live: PASS" -- "$bin" run "$work/evidence.yaml" --target live --out "$work/evidence" --quiet
check "pg_stat_statements agrees with stacksim's own count of every statement it ran" 0 "^agree" -- python3 -c '
import json, sys
pg = [s for s in json.load(open(sys.argv[1]))["server"]["stores"] if s["store"] == "postgres"][0]
c = pg["counters"]
sent = {k[5:]: v for k, v in c.items() if k.startswith("sent.") and v > 0}
bad = [k for k in sent if c.get("server_calls." + k) != sent[k]]
print("agree" if sent.keys() >= {"permission-check", "members", "user", "update-profile"} and not bad else f"differ: {bad} {sent}")
' "$work/evidence/report.json"
check "…the permission check's plan uses the membership index" 0 "permission-check: .*Index Scan using memberships_user_organization" -- \
    sed 's/\\_/_/g' "$work/evidence/report.md"
check "…the member list's plan uses the organization index" 0 "members: .*memberships_organization_active" -- sed 's/\\_/_/g' "$work/evidence/report.md"
check "…PostgreSQL's waiting sessions were sampled during the load" 0 "postgres: sessions seen waiting, sampled once a second \([0-9]+ samples\)" -- \
    cat "$work/evidence/report.md"
check "…and indexes of the tables it read that no read used are a finding" 0 "indexes no read used while the load read their tables: .*users.users_email" -- \
    sed 's/\\_/_/g' "$work/evidence/report.md"
"$bin" db reset --target live --yes >/dev/null 2>&1

# Server evidence: Redis's own command counts agree with what stacksim sent, command by command
# (a blocking pop still waiting when the load ended counts on one side only).
check "Redis INFO commandstats agrees with stacksim's own count of every command it sent" 0 "^agree" -- python3 -c '
import json, sys
redis = [s for s in json.load(open(sys.argv[1]))["server"]["stores"] if s["store"] == "redis"][0]
c = redis["counters"]
bad = [k for k in c if k.startswith("server_calls.") and k != "server_calls.BRPOP" and c[k] != c.get("sent." + k.split(".", 1)[1])]
print("agree" if not bad and c.get("server_calls.GET", 0) > 0 else "differ: " + ", ".join(bad))
' "$work/live/report.json"
check "…and the report says which MongoDB evidence it could not collect" 0 "mongo: \*\*not available\*\*" -- cat "$work/live/report.md"

# A PostgreSQL server without pg_stat_statements: the report says what is missing, and what
# stands in, and the run passes.
plain=$(mktemp -d) plain_port=55433
as_pg() { "$(dirname "$0")/../../scripts/services.sh" as-postgres "$@"; }
chown postgres:postgres "$plain" 2>/dev/null || sudo chown postgres:postgres "$plain"
as_pg /usr/lib/postgresql/15/bin/initdb -D "$plain/data" -U postgres -A trust --no-sync >/dev/null
as_pg /usr/lib/postgresql/15/bin/pg_ctl -D "$plain/data" -l "$plain/log" -w start \
    -o "-c listen_addresses=127.0.0.1 -c port=$plain_port -c unix_socket_directories=$plain -c fsync=off" >/dev/null
as_pg /usr/lib/postgresql/15/bin/psql -q -h 127.0.0.1 -p "$plain_port" -U postgres \
    -c "CREATE ROLE stacksim LOGIN PASSWORD 'stacksim' SUPERUSER" -c "CREATE DATABASE stacksim OWNER stacksim"
check "a server without pg_stat_statements: the run passes" 0 "short on live: PASS" -- \
    "$bin" run "$work/short.yaml" --target live --postgres-url "postgresql://stacksim:stacksim@127.0.0.1:$plain_port/stacksim" \
    --rate 20/s --out "$work/plain" --quiet
check "…and its report says pg_stat_statements is missing and what stands in" 0 "pg\\\\_stat\\\\_statements is not installed in this database.*table and index scan counts stand in" -- \
    cat "$work/plain/report.md"
"$bin" db reset --target live --postgres-url "postgresql://stacksim:stacksim@127.0.0.1:$plain_port/stacksim" --yes >/dev/null 2>&1
as_pg /usr/lib/postgresql/15/bin/pg_ctl -D "$plain/data" -m fast stop >/dev/null
rm -rf "$plain"

# MongoDB evidence from the test server: the opcounters it counts itself agree with stacksim's
# own count; what it cannot give (plans, time per shape) is said, not made up.
check "the MongoDB test server's opcounters agree with stacksim's finds, inserts and updates" 0 "^agree" -- python3 -c '
import json, sys
mongo = [s for s in json.load(open(sys.argv[1]))["server"]["stores"] if s["store"] == "mongo"][0]
c = mongo["counters"]
pairs = [("opcounters.query", "sent.find"), ("opcounters.update", "sent.update"), ("opcounters.insert", "sent.insert")]
bad = [p for p in pairs if c.get(p[0]) != c.get(p[1])]
print("agree" if c.get("sent.find", 0) > 0 and not bad else f"differ: {bad} {c}")
' "$work/live/report.json"
check "…and the report says the test server cannot give index statistics" 0 "index usage \(\\\$indexStats\): .*not implemented in Mongomock" -- cat "$work/live/report.md"
check "…and the report says the test server cannot explain queries" 0 "no such command: &#39;explain&#39; \(stacksim test server\)" -- cat "$work/live/report.md"
check "--no-server-evidence: the stores are not asked, the report has no server section" 1 "^" -- \
    bash -c "'$bin' run '$work/short.yaml' --target live --rate 20/s --out '$work/noev' --quiet --no-server-evidence >/dev/null 2>&1; grep '\"server\"' '$work/noev/report.json'"

# A capacity search against the live servers, at rates they can take: it finishes, names the
# bottleneck built into its scenario — one application worker, which saturates between 140 and
# 360/s (its service time grows with the load) at a quarter to half of the machine's CPU — and
# not a store whose own account (server time per call) stayed flat. With the default 16 workers
# the two cores, shared by the servers and a debug harness, saturated first (95 % busy at
# 640/s): whether the harness kept its schedule there was chance, and a probe it cannot drive
# ends a search as a harness limit (exit 12: 2 of 3 full runs of these checks one night). A
# debug build on this machine also sends 1 % of arrivals over 10 ms late at times even at
# 180/s, so the search allows 5 % (still invalid beyond that). One worker's knee moves from run
# to run (held 200, 240 and 280/s in five local runs), and where it moves between a probe and its
# confirmation the search bisects again: a CI run once spent all 14 probes. It may take 20 (about
# 10 s each), and a failure prints the probes it ran.
"$bin" db reset --target live --yes >/dev/null 2>&1
cat >"$work/live-capacity.yaml" <<'YAML'
name: live-capacity
dataset: { organizations: 5, users_per_org: 8, tasks_per_user: 5 }
stack: { rate_limit: { per_minute: 1000000 } }
load:
  mix: { board: 2, my-tasks: 1, permission-check: 2 }
  phases: [{ name: steady, duration: 5s, rate: 20/s }]
thresholds:
  board: { p90: 100ms }
capacity: { start: 80/s, max: 4000/s, warmup: 2s, probe: 8s, confirm: 16s, precision: 20%, max_probes: 10, repeats: 1 }
YAML
sed -e 's/^stack: {/stack: { app_workers: 1,/' -e 's/^load:/load:\n  max_late_fraction: 5%/' "$work/live-capacity.yaml" >"$work/one-worker.yaml"
check "capacity against the live servers converges and names the saturated application workers, not the stores" 0 "^named" -- bash -c "
'$bin' capacity '$work/one-worker.yaml' --target live --start 160/s --max-probes 20 --out '$work/live-capacity' --quiet >'$work/live-capacity.log' 2>&1
status=\$?
[ -f '$work/live-capacity/capacity.json' ] || { cat '$work/live-capacity.log'; exit \$status; }
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
s, probes = r[\"saturation\"], r[\"probes\"]
tried = \" \".join(\"%g:%s\" % (p[\"load\"], p[\"verdict\"]) for p in probes)
low = min(probes, key=lambda p: p[\"load\"])
top = [p for p in probes if p[\"load\"] == r[\"outcome\"].get(\"not_held\")]
def own(p, name):
    return next((x.get(\"server_ms_per_call\") for x in p[\"stations\"] if x[\"station\"] == name), None)
flat = [n for n in (\"postgres\", \"redis\") if top and own(low, n) is not None and own(top[-1], n) <= 1.2 * own(low, n) + 0.05]
ok = r[\"outcome\"][\"stop\"] == \"converged\" and s is not None and s[\"station\"] == \"app\" and flat == [\"postgres\", \"redis\"]
print((\"named \" if ok else \"wrong \") + json.dumps(s) + \" flat: \" + str(flat) + \"; stop: \" + r[\"outcome\"][\"stop\"] + \"; probes: \" + tried)
sys.exit(0 if ok else 1)
' '$work/live-capacity/capacity.json'
verdict=\$?
exit \$(( status != 0 ? status : verdict ))"

# Calibrate a model from the live servers at a light load, then project from it in virtual time.
check "calibrate writes a model of the live servers" 0 "^model: " -- "$bin" calibrate "$work/live-capacity.yaml" --target live --duration 5s --out "$work/model.yaml" --quiet
check "…that says what it was calibrated on and models each store's calls" 0 "^modelled$" -- python3 -c '
import sys, yaml
m = yaml.safe_load(open(sys.argv[1]))
ok = m["kind"] == "stacksim-model" and m["calibrated"]["organizations"] == 5 and "stacksim:stacksim@" not in str(m)
ok = ok and set(m["stores"]) == {"postgres", "mongo", "redis"} and m["stores"]["redis"]["servers"] == 1
ok = ok and m["stores"]["mongo"]["calls"]["board"]["service_ms"] > 0 and m["stores"]["postgres"]["network_ms"] > 0
shape = [(float(p["percentile"]), float(p["of_mean"])) for p in m["stores"]["mongo"]["calls"]["board"]["shape"]]
ok = ok and shape[0][0] == 0 and shape[-1][0] == 100 and all(a[1] <= b[1] for a, b in zip(shape, shape[1:]))
ok = ok and "permission-check" in m["stores"]["postgres"]["scale_by_operation"]
light, loaded = m["harness_overhead"]
for overhead in (light, loaded):
    app = [(float(p["percentile"]), float(p["of_mean"])) for p in overhead["shape"]]
    ok = ok and app[0][0] == 0 and app[-1][0] == 100 and all(a[1] <= b[1] for a, b in zip(app, app[1:])) and app[-1][1] > 1
ok = ok and 0 < float(light["mean_ms"]) < float(m["app_ms_per_request"]) and float(light["host_busy"]) < float(loaded["host_busy"]) <= 1
load = m["host_load"]
ok = ok and 0 < float(load["cpu_share"]) <= 1 and float(load["measured_cpu_ms_per_request"]) > 0 and float(load["rate_per_s"]) > 100
print("modelled" if ok else "missing: " + str(m))
' "$work/model.yaml"
check "a projection from it runs in virtual time and says so" 0 "^projected$" -- bash -c "
'$bin' run '$work/live-capacity.yaml' --model '$work/model.yaml' --organizations 10 --out '$work/projection' --quiet >/dev/null 2>&1 || exit \$?
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
board = next(o for o in r[\"operations\"] if o[\"name\"] == \"board\")
ok = r[\"clock\"] == \"virtual\" and r[\"projection\"][\"organizations\"] == 10 and r[\"target_note\"].startswith(\"Projection\")
print(\"projected\" if ok and board[\"latency_ms\"][\"p50\"] > 0 else \"not projected\")
' '$work/projection/report.json'"
check "…and again, from another process, byte-identical operations (every drawn time seeded)" 0 "^same$" -- bash -c "
'$bin' run '$work/live-capacity.yaml' --model '$work/model.yaml' --organizations 10 --out '$work/projection-2' --quiet >/dev/null 2>&1 || exit \$?
python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
print(\"same\" if json.dumps(a[\"operations\"]) == json.dumps(b[\"operations\"]) else \"differ\")
' '$work/projection/report.json' '$work/projection-2/report.json'"
check "capacity from the model converges and is marked a projection" 0 "^Projection" -- bash -c "
'$bin' capacity '$work/live-capacity.yaml' --model '$work/model.yaml' --out '$work/projected-capacity' --quiet >/dev/null 2>&1 || exit \$?
python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[\"target_note\"])' '$work/projected-capacity/capacity.json'"
"$bin" db reset --target live --yes >/dev/null 2>&1
