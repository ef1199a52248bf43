#!/usr/bin/env bash
# Runs every test of Chronicle against real components and prints a summary
# line "N passed, N failed". Exits non-zero if anything failed.
#
# Suites: core unit + property tests and shared vectors (cargo test), lint,
# the wasm module (shared vectors under node, wasm-bindgen-test), pgrx
# #[pg_test]s, SQL golden files (pg_regress), the shared vectors against the
# extension, isolation permutations (pg_isolation_regress), the 8-session
# concurrency test, the global feed, client tests in Python (psycopg) and
# Node (pg), wasm-vs-database parity, and the dashboard in Chromium.
source "$(dirname "$0")/lib.sh"

PORT="${TEST_PORT:-54339}"
RESTORE_PORT="${RESTORE_PORT:-54359}"
REPLICA_PORT="${REPLICA_PORT:-54369}"
LOGS="$STATE/test-logs"
PGXS="$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")"
rm -rf "$LOGS" && mkdir -p "$LOGS"
TOTAL_PASSED=0
TOTAL_FAILED=0
FAILED_SUITES=()

# count_results LOG: prints "passed failed" found in a suite's log.
count_results() {
    python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
p = f = 0
for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed", text):
    p += int(m[1]); f += int(m[2])
for m in re.finditer(r"RESULT passed=(\d+) failed=(\d+)", text):
    p += int(m[1]); f += int(m[2])
for m in re.finditer(r"^# (pass|fail) (\d+)$", text, re.M):
    if m[1] == "pass": p += int(m[2])
    else: f += int(m[2])
for m in re.finditer(r"All (\d+) tests passed", text):
    p += int(m[1])
for m in re.finditer(r"(\d+) of (\d+) tests failed", text):
    f += int(m[1]); p += int(m[2]) - int(m[1])
print(p, f)
PY
}

# Suites to run: the arguments (e.g. `./chronicle test regress isolation`),
# every suite if none.
ONLY=("$@")
wanted() {
    [ ${#ONLY[@]} -eq 0 ] && return 0
    local s
    for s in "${ONLY[@]}"; do [ "$s" = "$1" ] && return 0; done
    return 1
}

# suite NAME COMMAND...: runs a suite, logs it, adds up its counts.
suite() {
    local name=$1 status=0 passed failed
    shift
    wanted "$name" || return 0
    log "suite: $name"
    ( "$@" ) >"$LOGS/$name.log" 2>&1 || status=$?
    read -r passed failed < <(count_results "$LOGS/$name.log")
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then passed=1; fi
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
    if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
        FAILED_SUITES+=("$name")
        printf '   FAILED (%s passed, %s failed); last lines of %s:\n' "$passed" "$failed" "$LOGS/$name.log"
        tail -40 "$LOGS/$name.log" | sed 's/^/   | /'
    else
        printf '   ok (%s passed)\n' "$passed"
    fi
}

DSN="host=$(cluster_dir test) port=$PORT user=postgres"

lint() {
    cd "$ROOT"
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    # The core and the facade as the browser gets them (the core's tests use
    # proptest, which does not build for wasm32).
    cargo clippy -p chronicle-core --lib --target wasm32-unknown-unknown -- -D warnings
    cargo clippy -p chronicle-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings
}

# The wasm module: the shared vectors through it under node, and its error
# mapping in a wasm runtime (wasm-bindgen-test).
wasm_tests() {
    local status=0
    build_wasm
    (cd "$ROOT/tests/wasm" && node --test vectors.test.mjs) || status=1
    (cd "$ROOT" && CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
        cargo test -p chronicle-wasm --target wasm32-unknown-unknown --test errors) || status=1
    return $status
}

# load_demo_data DB: the seeds' Order example and the dashboard's dataset.
load_demo_data() {
    recreate_db test "$PORT" "$1"
    cluster_psql test "$PORT" "$1" -o /dev/null -f "$ROOT/scripts/demo.sql" -f "$ROOT/scripts/demo_data.sql" >/dev/null
}

# The wasm module's replay equals state_at (the 100,000-event stream too).
parity() {
    build_wasm
    load_demo_data chronicle_parity
    cd "$ROOT/tests/wasm"
    CHRONICLE_DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/chronicle_parity" node --test parity.test.mjs
}

# The dashboard in Debian's Chromium against the real server and database;
# screenshots in tests/results/screenshots.
browser() {
    # The dashboard reads as chronicle_dashboard (granted chronicle_reader
    # only); the tests append and compare as postgres.
    local status=0 url="postgresql://postgres@127.0.0.1:$PORT/chronicle_browser"
    local reader="postgresql://chronicle_dashboard@127.0.0.1:$PORT/chronicle_browser"
    local dashboard_port="${TEST_DASHBOARD_PORT:-54338}"
    build_wasm
    build_dashboard
    load_demo_data chronicle_browser
    dashboard_start test "$reader" "$dashboard_port"
    (cd "$ROOT/tests/browser" && CHRONICLE_DASHBOARD_URL="http://127.0.0.1:$dashboard_port/" \
        CHRONICLE_DATABASE_URL="$url" CHRONICLE_SCREENSHOTS="$ROOT/tests/results/screenshots" \
        node --test) || status=1
    dashboard_stop test
    return $status
}

pgrx_tests() {
    cd "$ROOT"
    cargo pgrx test pg15 -p chronicle --runas "$PGUSER_OS" --pgdata /var/tmp/chronicle-pgrx
}

# The SQL golden files (pg_regress) in a fresh database.
regress() {
    recreate_db test "$PORT" chronicle_regress
    run_regress test "$PORT" chronicle_regress
}

# run_regress NAME PORT DB [OLD_VERSION]: the golden files against database
# DB. With OLD_VERSION, each file's fresh start (DROP EXTENSION; CREATE
# EXTENSION) installs OLD_VERSION and updates it instead, so that every file
# runs on an upgraded extension (the echoed statement changes alike in the
# expected output).
run_regress() {
    local out="$STATE/regress-$3" input="$ROOT/tests/regress"
    rm -rf "$out" && mkdir -p "$out"
    if [ -n "${4:-}" ]; then
        input="$out/input"
        mkdir -p "$input/sql" "$input/expected"
        local f
        for f in "$ROOT"/tests/regress/sql/*.sql "$ROOT"/tests/regress/expected/*.out; do
            sed "s/^CREATE EXTENSION chronicle;\$/CREATE EXTENSION chronicle VERSION '$4';\nALTER EXTENSION chronicle UPDATE;/" \
                "$f" >"$input/$(basename "$(dirname "$f")")/$(basename "$f")"
        done
    fi
    "$PGXS/src/test/regress/pg_regress" --use-existing --host="$(cluster_dir "$1")" --port="$2" \
        --user=postgres --dbname="$3" \
        --inputdir="$input" --outputdir="$out" \
        $(cat "$ROOT/tests/regress/schedule") \
        || { cat "$out/regression.diffs" 2>/dev/null | head -100; return 1; }
}

# copy_db NAME PORT FROM TO: database TO as a copy of FROM (whose sealer is
# stopped first: a template must have no sessions).
copy_db() {
    PGOPTIONS="-c client_min_messages=warning" cluster_psql "$1" "$2" postgres \
        -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$3'" \
        -c "DROP DATABASE IF EXISTS $4 WITH (FORCE)" -c "CREATE DATABASE $4 TEMPLATE $3"
}

# sql_suites NAME PORT DB [OLD_VERSION]: the SQL-level suites (golden files,
# shared vectors, bad input, privileges and tenants), each on its own copy of
# DB (for OLD_VERSION, see run_regress).
sql_suites() {
    local name=$1 port=$2 db=$3 status=0
    local dsn="host=$(cluster_dir "$name") port=$port user=postgres"
    copy_db "$name" "$port" "$db" "${db}_regress"
    run_regress "$name" "$port" "${db}_regress" "${4:-}" || status=1
    copy_db "$name" "$port" "$db" "${db}_vectors"
    "$VENV/bin/python" "$ROOT/tests/vectors/run_sql.py" "$dsn dbname=${db}_vectors" || status=1
    copy_db "$name" "$port" "$db" "${db}_hostile"
    "$VENV/bin/python" "$ROOT/tests/hostile/run.py" "$dsn dbname=${db}_hostile" "$(cluster_dir "$name")/server.log" \
        || status=1
    copy_db "$name" "$port" "$db" "${db}_security"
    "$VENV/bin/python" "$ROOT/tests/security/run.py" "$dsn dbname=${db}_security" || status=1
    return $status
}

# Upgrades: 0.1.0 with data, ALTER EXTENSION UPDATE, the catalog compared
# with a fresh install, then the SQL suites on the upgraded database.
upgrade() {
    local status=0
    "$VENV/bin/python" "$ROOT/tests/upgrade/run.py" upgrade "$DSN" 0.1.0 || status=1
    sql_suites test "$PORT" chronicle_upgrade 0.1.0 || status=1
    return $status
}

# Dump and restore: the same data (and a tenant's stream) through pg_dump and
# pg_restore into a fresh cluster, compared, then the SQL suites there.
restore() {
    local status=0
    cluster_reset restore
    cluster_start restore "$RESTORE_PORT"
    PGBIN="$PGBIN" "$VENV/bin/python" "$ROOT/tests/upgrade/run.py" restore "$DSN" \
        "host=$(cluster_dir restore) port=$RESTORE_PORT user=postgres" || status=1
    sql_suites restore "$RESTORE_PORT" chronicle_restored || status=1
    cluster_reset restore
    return $status
}

isolation() {
    recreate_db test "$PORT" chronicle_isolation
    local out="$STATE/isolation"
    rm -rf "$out" && mkdir -p "$out"
    "$PGXS/src/test/isolation/pg_isolation_regress" --use-existing --host="$(cluster_dir test)" \
        --port="$PORT" --user=postgres --dbname=chronicle_isolation \
        --inputdir="$ROOT/tests/isolation" --outputdir="$out" \
        $(cat "$ROOT/tests/isolation/schedule") \
        || { cat "$out/regression.diffs" 2>/dev/null | head -100; return 1; }
}

vectors_sql() {
    recreate_db test "$PORT" chronicle_vectors
    "$VENV/bin/python" "$ROOT/tests/vectors/run_sql.py" "$DSN dbname=chronicle_vectors"
}

concurrency() {
    recreate_db test "$PORT" chronicle_concurrency
    "$VENV/bin/python" "$ROOT/tests/concurrency/run.py" "$DSN dbname=chronicle_concurrency"
}

# Crash safety: SIGKILL of the postmaster in the middle of an 8-session
# append load, four times; nothing acknowledged lost, the feed dense again.
crash() {
    recreate_db test "$PORT" chronicle_crash
    "$VENV/bin/python" "$ROOT/tests/crash/run.py" "$DSN dbname=chronicle_crash" "$(cluster_dir test)/data" \
        "bash -c 'source \"$ROOT/scripts/lib.sh\"; cluster_start test $PORT'" --rounds 4
}

# Replicas: a hot standby of the test cluster (pg_basebackup, streaming
# replication) serves reads, refuses writes, and after promotion takes appends.
replica() {
    local status=0 standby
    standby="$(cluster_dir replica)"
    recreate_db test "$PORT" chronicle_replica
    cluster_reset replica
    install -d -o "$PGUSER_OS" -g "$PGUSER_OS" -m 700 "$standby"
    sudo -u "$PGUSER_OS" "$PGBIN/pg_basebackup" -h "$(cluster_dir test)" -p "$PORT" -U postgres \
        -D "$standby/data" -R -X stream
    cluster_start replica "$REPLICA_PORT"
    "$VENV/bin/python" "$ROOT/tests/replica/run.py" "$DSN dbname=chronicle_replica" \
        "host=$standby port=$REPLICA_PORT user=postgres dbname=chronicle_replica" \
        "sudo -u $PGUSER_OS $PGBIN/pg_ctl -D $standby/data promote -w" || status=1
    cluster_reset replica
    return $status
}

# The bad-input catalogue: hostile and malformed calls, each with its
# documented SQLSTATE, storing nothing, crashing no backend.
hostile() {
    recreate_db test "$PORT" chronicle_hostile
    "$VENV/bin/python" "$ROOT/tests/hostile/run.py" "$DSN dbname=chronicle_hostile" "$(cluster_dir test)/server.log"
}

# Least privilege, planted search_path objects, and two tenants, as real
# login roles.
security() {
    recreate_db test "$PORT" chronicle_security
    "$VENV/bin/python" "$ROOT/tests/security/run.py" "$DSN dbname=chronicle_security"
}

# The global feed: randomised writers and a follower, consumer groups, a
# server restart, and pg_dump/pg_restore into a fresh cluster.
feed() {
    local status=0 py=("$VENV/bin/python" "$ROOT/tests/feed/run.py")
    recreate_db test "$PORT" chronicle_feed
    "${py[@]}" random "$DSN dbname=chronicle_feed" || status=1
    recreate_db test "$PORT" chronicle_feed
    "${py[@]}" groups "$DSN dbname=chronicle_feed" || status=1
    recreate_db test "$PORT" chronicle_feed
    "${py[@]}" restart-before "$DSN dbname=chronicle_feed" || status=1
    cluster_stop test
    cluster_start test "$PORT"
    "${py[@]}" restart-after "$DSN dbname=chronicle_feed" || status=1
    cluster_reset restore
    cluster_start restore "$RESTORE_PORT"
    PGBIN="$PGBIN" "${py[@]}" dump-restore "$DSN dbname=chronicle_feed" \
        "host=$(cluster_dir restore) port=$RESTORE_PORT user=postgres dbname=chronicle_restored" || status=1
    cluster_reset restore
    return $status
}

clients_python() {
    recreate_db test "$PORT" chronicle_clients
    cd "$ROOT/tests/clients/python"
    CHRONICLE_DSN="$DSN dbname=chronicle_clients" "$VENV/bin/python" -m unittest -v test_client 2>&1 \
        | tee /dev/stderr | python3 -c '
import re, sys
t = sys.stdin.read()
m = re.search(r"Ran (\d+) tests?", t)
ran = int(m[1]) if m else 0
f = re.search(r"FAILED \((?:failures=(\d+))?(?:, )?(?:errors=(\d+))?", t)
bad = (int(f[1] or 0) + int(f[2] or 0)) if f else 0
print(f"RESULT passed={ran - bad} failed={bad}")
sys.exit(1 if bad or not m else 0)'
}

clients_node() {
    recreate_db test "$PORT" chronicle_clients
    cd "$ROOT/tests/clients/node"
    CHRONICLE_PGHOST="$(cluster_dir test)" CHRONICLE_PGPORT="$PORT" node --test
}

suite core cargo test --manifest-path "$ROOT/Cargo.toml" -p chronicle-core
suite lint lint
# The cargo-fuzz targets, briefly (./chronicle fuzz runs them longer).
suite fuzz env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" "$ROOT/scripts/fuzz.sh"
suite wasm wasm_tests
suite pgrx pgrx_tests
install_extension
cluster_reset test
cluster_start test "$PORT"
suite regress regress
suite vectors-sql vectors_sql
suite isolation isolation
suite concurrency concurrency
suite hostile hostile
suite security security
suite upgrade upgrade
suite restore restore
suite crash crash
suite replica replica
suite feed feed
suite clients-python clients_python
suite clients-node clients_node
suite parity parity
suite browser browser
cluster_stop test

echo
if [ ${#FAILED_SUITES[@]} -gt 0 ]; then
    echo "failed suites: ${FAILED_SUITES[*]} (logs in $LOGS)"
fi
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ]
