#!/usr/bin/env bash
# Throwaway servers for development and the integration tests, on loopback ports that do not
# collide with default ones: PostgreSQL 15 (initdb into a temp dir, run as the postgres user,
# seed-002 settings, pg_stat_statements loaded), redis-server without persistence, and the MongoDB wire-protocol test
# server (Tests/support/mongo_test_server.py).
# The MongoDB test server keeps its data across `restart-mongo` (saved on SIGTERM), as a real
# one would; Redis runs without persistence, so `restart-redis` loses every key, as the seed's
# Redis would.
# Usage: scripts/services.sh up|down|env|restart-postgres|restart-redis|restart-mongo
#        scripts/services.sh as-postgres COMMAND... (runs COMMAND as the postgres user)
set -euo pipefail
dir=$(realpath -m "${STACKSIM_SERVICES_DIR:-/tmp/stacksim-services}")
pg_port=${STACKSIM_PG_PORT:-55432}
redis_port=${STACKSIM_REDIS_PORT:-56379}
mongo_port=${STACKSIM_MONGO_PORT:-57017}
pg_bin=/usr/lib/postgresql/15/bin
root=$(cd "$(dirname "$0")/.." && pwd)

# From /: the postgres user may not enter the caller's directory (a fresh clone under mktemp -d is
# private), and psql and pg_ctl complain when they cannot.
as_postgres() { (cd / && if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi); }

exports() {
    echo "export STACKSIM_POSTGRES_URL=postgresql://stacksim:stacksim@127.0.0.1:$pg_port/stacksim"
    echo "export STACKSIM_REDIS_URL=redis://127.0.0.1:$redis_port"
    echo "export STACKSIM_MONGO_URL=mongodb://127.0.0.1:$mongo_port/stacksim"
}

wait_for() { # wait_for WHAT COMMAND...
    local what=$1; shift
    for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "services: $what did not start; its log is in $dir" >&2
    return 1
}

up() {
    mkdir -p "$dir"
    chmod 755 "$dir"
    if ! "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; then
        rm -rf "$dir/pg"
        mkdir -p "$dir/pg" && chown postgres:postgres "$dir/pg"
        as_postgres "$pg_bin/initdb" -D "$dir/pg/data" -U postgres -A trust --no-sync >"$dir/initdb.log"
        start_postgres
        as_postgres "$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -c \
            "CREATE ROLE stacksim LOGIN PASSWORD 'stacksim' SUPERUSER" -c "CREATE DATABASE stacksim OWNER stacksim"
        # Statement statistics for the report's server evidence (loaded at start, below).
        as_postgres "$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -d stacksim \
            -c "CREATE SCHEMA monitoring" -c "CREATE EXTENSION pg_stat_statements SCHEMA monitoring"
    fi
    if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then start_redis; fi
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$mongo_port") 2>/dev/null; then start_mongo; fi
    echo "# servers are up; for stacksim run --target live:"
    exports
}

start_postgres() {
    as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w start -o \
        "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$dir/pg -c fsync=off \
         -c shared_buffers=256MB -c effective_cache_size=512MB -c maintenance_work_mem=128MB \
         -c checkpoint_completion_target=0.9 -c wal_buffers=16MB -c default_statistics_target=100 \
         -c random_page_cost=1.1 -c effective_io_concurrency=200 -c max_connections=100 \
         -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" >/dev/null
}

start_redis() {
    redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
    wait_for redis redis-cli -p "$redis_port" ping
}

start_mongo() {
    nohup /usr/bin/python3 "$root/Tests/support/mongo_test_server.py" "$mongo_port" "$dir/mongo.data" >>"$dir/mongo.log" 2>&1 &
    echo $! >"$dir/mongo.pid"
    wait_for "the mongo test server" bash -c "exec 3<>/dev/tcp/127.0.0.1/$mongo_port"
}

# restart-* SECONDS: stop the server, stay down SECONDS (default 1), start it again.
restart_postgres() {
    as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -m fast stop >/dev/null
    sleep "${1:-1}"
    start_postgres
}

restart_redis() {
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 || break; sleep 0.1; done
    sleep "${1:-1}"
    start_redis
}

restart_mongo() {
    local pid
    pid=$(cat "$dir/mongo.pid")
    kill -TERM "$pid"
    # It saves its data before it exits: wait for that (a minute at most), then make sure.
    for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    sleep "${1:-1}"
    start_mongo
}

down() {
    if [[ -d "$dir/pg/data" ]]; then as_postgres "$pg_bin/pg_ctl" -D "$dir/pg/data" -m fast stop >/dev/null 2>&1 || true; fi
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    if [[ -f "$dir/mongo.pid" ]]; then
        # It saves its data on SIGTERM: let it finish before its folder goes.
        local pid
        pid=$(cat "$dir/mongo.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    echo "# servers are down"
}

case ${1:-} in
    up) up ;;
    down) down ;;
    env) exports ;;
    restart-postgres) restart_postgres "${2:-1}" ;;
    restart-redis) restart_redis "${2:-1}" ;;
    restart-mongo) restart_mongo "${2:-1}" ;;
    as-postgres) shift; as_postgres "$@" ;;
    *) echo "usage: $0 up|down|env|restart-postgres|restart-redis|restart-mongo [SECONDS] | as-postgres COMMAND..." >&2; exit 64 ;;
esac
