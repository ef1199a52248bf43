# Shared helpers for Chronicle's scripts. Sourced, not run.
# shellcheck shell=bash

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Postgres refuses to run as root: every server runs as this system user.
PGUSER_OS=chronicle
STATE="$ROOT/.state"
VENV="$STATE/venv"
PGRX_VERSION="$(sed -n 's/^pgrx = "=\(.*\)"$/\1/p' "$ROOT/Cargo.toml")"
# The extension's version: the workspace's (root Cargo.toml).
CHRONICLE_VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml")"
CARGO_FUZZ_VERSION=0.13.2

export PATH="$HOME/.cargo/bin:$PATH"

# The supported PostgreSQL majors (scripts/postgres.lock), oldest first, and
# every server the lock file names (the majors and 15-pypi).
PG_MAJORS=($(awk '$1 ~ /^[0-9]+$/ {print $1}' "$ROOT/scripts/postgres.lock"))
PG_SERVERS=($(awk '!/^#/ && NF {print $1}' "$ROOT/scripts/postgres.lock"))
PG_NEWEST="${PG_MAJORS[-1]}"
# Where setup unpacks the relocatable servers (outside the clone: every
# clone on the machine shares them, as they share Debian's 15).
RELOCATABLE_ROOT=/opt/chronicle

# pg_lock MAJOR FIELD: a field of MAJOR's line in scripts/postgres.lock
# (source, version or sha256).
pg_lock() {
    awk -v major="$1" -v field="$2" '
        !/^#/ && $1 == major { print (field == "source" ? $2 : field == "version" ? $3 : $4); found = 1 }
        END { exit !found }' "$ROOT/scripts/postgres.lock"
}

# pg_bindir MAJOR: the bin directory of MAJOR's server.
pg_bindir() {
    case "$(pg_lock "$1" source)" in
        debian) echo "/usr/lib/postgresql/$1/bin" ;;
        pypi) echo "$RELOCATABLE_ROOT/postgresql-$(pg_lock "$1" version)/bin" ;;
        *) die "PostgreSQL $1 is not supported (supported: ${PG_MAJORS[*]})" ;;
    esac
}

# use_pg MAJOR: the server the following commands use (PG_MAJOR, PGBIN,
# PG_CONFIG); MAJOR is a first column of scripts/postgres.lock. Clusters are per major (cluster_dir), so switching never
# points a server at another major's data directory.
use_pg() {
    pg_lock "$1" source >/dev/null || die "PostgreSQL $1 is not supported (supported: ${PG_MAJORS[*]})"
    PG_MAJOR=$1
    PGBIN="$(pg_bindir "$1")"
    PG_CONFIG="$PGBIN/pg_config"
    # The environment a server runs in. The relocatable builds' server-side
    # libraries look for libpq in their packager's prefix (RUNPATH
    # /opt/postgresql/lib), not beside them: without this, a standby's WAL
    # receiver loads Debian's older libpq and refuses the connection string
    # pg_basebackup -R wrote ("invalid connection option sslcertmode").
    PG_SERVER_ENV=()
    [ "$(pg_lock "$1" source)" = pypi ] && PG_SERVER_ENV=("LD_LIBRARY_PATH=$(dirname "$PGBIN")/lib")
    # The test drivers run pg_dump, pg_restore and psql from here.
    export PGBIN
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Clusters live in /var/tmp (short socket paths, owned by the server user),
# one directory per name and major.
cluster_dir() { echo "/var/tmp/chronicle-$1-pg$PG_MAJOR"; }

# Worker slots of the private clusters: every database that uses Chronicle
# keeps a sealer worker (one slot each), and the tests leave many databases
# behind them; Postgres' default of 8 would run out, and a database without a
# sealer has no live notifications.
MAX_WORKERS=64
# The feed's tests hold prepared transactions (Postgres' default allows none).
MAX_PREPARED=8

# cluster_init NAME [INITDB ARGS...]: initdb, unless the cluster exists.
cluster_init() {
    local name=$1 dir
    shift
    dir=$(cluster_dir "$name")
    install -d -o "$PGUSER_OS" -g "$PGUSER_OS" -m 700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        log "initdb $dir/data"
        sudo -u "$PGUSER_OS" "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres \
            --locale=C.UTF-8 -E UTF8 "$@" >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    fi
}

# cluster_start NAME PORT: initdb on first use, then start (idempotent).
cluster_start() {
    local name=$1 port=$2 dir
    dir=$(cluster_dir "$name")
    cluster_init "$name"
    if ! sudo -u "$PGUSER_OS" "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        # A cluster of the same name on another major holds the port.
        local other
        for other in "${PG_SERVERS[@]}"; do
            [ "$other" = "$PG_MAJOR" ] || (use_pg "$other"; cluster_stop "$name")
        done
        log "starting Postgres $PG_MAJOR '$name' on 127.0.0.1:$port"
        sudo -u "$PGUSER_OS" env "${PG_SERVER_ENV[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_worker_processes=$MAX_WORKERS -c max_prepared_transactions=$MAX_PREPARED" start >/dev/null \
            || { tail -20 "$dir/server.log" >&2; die "Postgres did not start"; }
    fi
}

cluster_stop() {
    local dir
    dir=$(cluster_dir "$1")
    if [ -f "$dir/data/postmaster.pid" ]; then
        log "stopping Postgres $PG_MAJOR '$1'"
        sudo -u "$PGUSER_OS" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
}

# cluster_reset NAME: stops the cluster and deletes its data (tests start clean).
cluster_reset() {
    cluster_stop "$1"
    rm -rf "$(cluster_dir "$1")/data"
}

# cluster_psql NAME PORT DB [psql args...]
cluster_psql() {
    local name=$1 port=$2 db=$3
    shift 3
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(cluster_dir "$name")" -p "$port" -U postgres -d "$db" "$@"
}

# Fresh database with the extension: recreate_db NAME PORT DB
recreate_db() {
    PGOPTIONS="-c client_min_messages=warning" cluster_psql "$1" "$2" postgres \
        -c "DROP DATABASE IF EXISTS $3 WITH (FORCE)" -c "CREATE DATABASE $3"
    cluster_psql "$1" "$2" "$3" -c "CREATE EXTENSION chronicle"
}

# pgrx_features: the cargo arguments that build the extension for PG_MAJOR
# (15-pypi is a 15).
pgrx_features() { echo "--no-default-features --features pg${PG_MAJOR%%-*}"; }

# Builds the extension in release mode and installs it into PG_MAJOR's server.
install_extension() {
    local logfile="$STATE/install-pg$PG_MAJOR.log"
    log "building and installing the chronicle extension for PostgreSQL $PG_MAJOR (release)"
    # shellcheck disable=SC2046
    (cd "$ROOT" && cargo pgrx install --release -p chronicle --pg-config "$PG_CONFIG" $(pgrx_features) >"$logfile" 2>&1) \
        || { tail -40 "$logfile" >&2; die "cargo pgrx install failed"; }
    install_sql_scripts "$("$PG_CONFIG" --sharedir)/extension"
}

# The released install scripts and the upgrade scripts (sql/chronicle--*.sql)
# beside the one cargo pgrx generates for the current version, and the
# SQL-only extension chronicle_message_store (message_store/: its control
# file and its install and upgrade scripts):
# install_sql_scripts DIR
install_sql_scripts() {
    install -m 644 "$ROOT"/sql/chronicle--*.sql "$1/"
    install -m 644 "$ROOT"/message_store/chronicle_message_store.control \
        "$ROOT"/message_store/sql/chronicle_message_store--*.sql "$1/"
}

# Builds the WebAssembly module: target/wasm/web (ES module for the
# dashboard) and target/wasm/node (CommonJS for node's tests and benchmarks).
WASM_OUT="$ROOT/target/wasm"
build_wasm() {
    log "building the WebAssembly module (wasm_core)"
    (cd "$ROOT" && cargo build -q --release -p chronicle-wasm --target wasm32-unknown-unknown) \
        || die "wasm build failed"
    local wasm="$ROOT/target/wasm32-unknown-unknown/release/chronicle_wasm.wasm"
    wasm-bindgen --target web --out-dir "$WASM_OUT/web" "$wasm"
    wasm-bindgen --target nodejs --out-dir "$WASM_OUT/node" "$wasm"
}

# Builds the dashboard server (release).
DASHBOARD_BIN="$ROOT/target/release/chronicle-dashboard"
build_dashboard() {
    log "building the dashboard server"
    (cd "$ROOT" && cargo build -q --release -p chronicle-dashboard) || die "dashboard build failed"
}

# dashboard_start NAME DATABASE_URL PORT: starts the dashboard in the
# background (pid in $STATE/dashboard-NAME.pid) and waits until it answers.
dashboard_start() {
    local name=$1 url=$2 port=$3 pidfile="$STATE/dashboard-$1.pid"
    dashboard_stop "$name"
    setsid "$DASHBOARD_BIN" --database "$url" --listen "127.0.0.1:$port" \
        --static "$ROOT/dashboard/static" --pkg "$WASM_OUT/web" --vendor "$ROOT/dashboard/node_modules" \
        >"$STATE/dashboard-$name.log" 2>&1 < /dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 50); do
        curl -fs "http://127.0.0.1:$port/api/info" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    cat "$STATE/dashboard-$name.log" >&2
    die "the dashboard did not start"
}

dashboard_stop() {
    local pidfile="$STATE/dashboard-$1.pid"
    if [ -f "$pidfile" ]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
}

# The major the commands use: --pg (CHRONICLE_PG, set by ./chronicle), else
# the newest.
use_pg "${CHRONICLE_PG:-$PG_NEWEST}"
