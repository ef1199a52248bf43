#!/usr/bin/env bash
# Runs every test of Chronicle against real components and prints a summary
# line "N passed, N failed". Exits non-zero if anything failed.
#
# Suites: core unit + property tests and shared vectors (cargo test), lint,
# the wasm module (shared vectors under node, wasm-bindgen-test), pgrx
# #[pg_test]s, SQL golden files (pg_regress), the shared vectors against the
# extension, isolation permutations (pg_isolation_regress), the 8-session
# concurrency test, the global feed, client tests in Python (psycopg) and
# Node (pg), the five seed documents re-enacted (tests/seeds), wasm-vs-database
# parity, and the dashboard in Chromium.
#
#   ./chronicle test                    # every suite
#   ./chronicle test regress isolation  # some of them, by name (SUITES)
#   ./chronicle test regress@16 @17     # one on another major; all of one
#   ./chronicle test --pg 16            # every suite, 16 as the main major
#
# Every suite runs on the main major (the newest, or --pg's); on each of the
# other supported majors, MAJOR_SUITES run as NAME@MAJOR (build and install,
# golden files, vectors, isolation, concurrency, bad input, security,
# upgrades, dump/restore, crash, standby, feed). Then pg-upgrade (a 15 cluster with data through
# pg_upgrade to the newest) and package (the .deb of every major; the 15 one
# installed with dpkg into Debian's server).

source "$(dirname "$0")/lib.sh"
MAIN_MAJOR=$PG_MAJOR
OTHER_MAJORS=()
for m in "${PG_MAJORS[@]}"; do [ "$m" = "$MAIN_MAJOR" ] || OTHER_MAJORS+=("$m"); done

# Every suite on the main major, in the order they run (each has its `suite`
# call below).
SUITES=(core lint fuzz wasm pgrx install regress readme vectors-sql isolation concurrency lifecycle hostile security
        upgrade restore crash replica feed clients-python message-store clients-node seeds parity browser)
# The suites before install, which need no server of their own.
NO_SERVER=(core lint fuzz wasm pgrx)
# The suites that also run on every other major, as NAME@MAJOR.
MAJOR_SUITES=(install regress vectors-sql isolation concurrency lifecycle hostile security upgrade restore crash replica feed)
# Across majors, after the rest.
CROSS_SUITES=(pg-upgrade package)
contains() {
    local x=$1 y
    shift
    for y in "$@"; do [ "$x" = "$y" ] && return 0; done
    return 1
}
known_suite() {
    case "$1" in
        @*) contains "${1#@}" "${OTHER_MAJORS[@]}" ;;
        *@*) contains "${1%@*}" "${MAJOR_SUITES[@]}" && contains "${1#*@}" "${OTHER_MAJORS[@]}" ;;
        *) contains "$1" "${SUITES[@]}" "${CROSS_SUITES[@]}" ;;
    esac
}
# An unknown name would run nothing and pass: refuse it before doing anything.
for arg in "$@"; do
    if ! known_suite "$arg"; then
        printf "error: unknown suite '%s'\nsuites: %s\non the other majors (%s): NAME@MAJOR for %s, or @MAJOR for all of them\n" \
            "$arg" "${SUITES[*]} ${CROSS_SUITES[*]}" "${OTHER_MAJORS[*]}" "${MAJOR_SUITES[*]}" >&2
        exit 2
    fi
done

PORT="${TEST_PORT:-54339}"
RESTORE_PORT="${RESTORE_PORT:-54359}"
REPLICA_PORT="${REPLICA_PORT:-54369}"
PGUP_PORT="${PGUP_PORT:-54379}"
PACKAGE_PORT="${PACKAGE_PORT:-54389}"
LOGS="$STATE/test-logs"
rm -rf "$LOGS" && mkdir -p "$LOGS"
TOTAL_PASSED=0
TOTAL_FAILED=0
FAILED_SUITES=()

# count_results FORMATS LOG: prints "PASSED FAILED SUMMARIES", the counts of
# the test summaries in LOG written in FORMATS (a comma list), and how many
# such summaries it found (0: none, the log proves nothing). Only the formats
# named are read, so that a line in another tool's format counts for nothing.
# The one place that knows the formats:
#   cargo       cargo test, wasm-bindgen-test: "test result: ok. N passed; M failed; ..."
#   node        node --test (TAP): "# pass N" and "# fail M"
#   pg_regress  pg_regress, pg_isolation_regress: "All N tests passed." or
#               "M of N tests failed."
#   result      Chronicle's own suites and checks: "RESULT passed=N failed=M"
# An unknown format name is an error (a message, exit status 1), whatever LOG
# holds: suite checks its FORMATS against /dev/null before it runs.
count_results() {
    python3 - "$1" "$2" <<'PY'
import re, sys
FORMATS = {
    "cargo": (r"^test result: \w+\. (\d+) passed; (\d+) failed", lambda m: (int(m[1]), int(m[2]))),
    "node": (r"^# (pass|fail) (\d+)$", lambda m: (int(m[2]), 0) if m[1] == "pass" else (0, int(m[2]))),
    "pg_regress": (r"All (\d+) tests passed|(\d+) of (\d+) tests failed",
                   lambda m: (int(m[1]), 0) if m[1] else (int(m[3]) - int(m[2]), int(m[2]))),
    "result": (r"^RESULT passed=(\d+) failed=(\d+)$", lambda m: (int(m[1]), int(m[2]))),
}
formats = sys.argv[1].split(",")
unknown = [f for f in formats if f not in FORMATS]
if unknown:
    sys.exit(f"count_results: unknown summary format {', '.join(map(repr, unknown))} (formats: {', '.join(FORMATS)})")
text = open(sys.argv[2], errors="replace").read()
passed = failed = summaries = 0
for name in formats:
    pattern, counts = FORMATS[name]
    for m in re.finditer(pattern, text, re.M):
        p, f = counts(m)
        passed, failed, summaries = passed + p, failed + f, summaries + 1
print(passed, failed, summaries)
PY
}

# Suites to run: the arguments (e.g. `./chronicle test regress isolation`),
# every suite if none. NAME@MAJOR is wanted by itself and by @MAJOR; a
# major's install by any other suite on it.
ONLY=("$@")
wanted() {
    [ ${#ONLY[@]} -eq 0 ] && return 0
    contains "$1" "${ONLY[@]}" && return 0
    case "$1" in *@*) contains "@${1#*@}" "${ONLY[@]}" && return 0 ;; esac
    if [ "${1%@*}" = install ]; then
        local s major=${1#install} ours
        for s in "${ONLY[@]}"; do
            case "$s" in @*) ours="@${s#@}" ;; *@*) ours="@${s#*@}" ;; *) ours="" ;; esac
            [ "$ours" = "$major" ] && ! contains "$s" "${NO_SERVER[@]}" "${CROSS_SUITES[@]}" && return 0
        done
    fi
    return 1
}

# suite NAME FORMATS -- COMMAND...: runs suite NAME (one of SUITES) if it is
# wanted, logs it, and adds up the counts of the summaries its log holds in
# FORMATS (a comma list of count_results' formats, e.g. `node,cargo`). A
# suite that fails counts at least 1 failed; one that passes but whose log has
# no summary in its formats counts 1 failed too: it proved nothing.
RAN=()
# Seconds spent per major's suites (NAME@MAJOR under MAJOR; the main major's
# under their own names), summed up at the end.
declare -A SUITE_SECONDS=()
suite() {
    local name=$1 formats=$2 status=0 counts passed failed summaries
    [ "${3:-}" = -- ] || die "suite $name: expected 'suite NAME FORMATS -- COMMAND...'"
    shift 3
    known_suite "$name" || die "suite $name is not in SUITES, MAJOR_SUITES or CROSS_SUITES"
    count_results "$formats" /dev/null >/dev/null || die "suite $name: bad summary formats '$formats'"
    wanted "$name" || return 0
    RAN+=("$name")
    log "suite: $name"
    local started=$SECONDS
    ( "$@" ) >"$LOGS/$name.log" 2>&1 || status=$?
    local took=$((SECONDS - started))
    SUITE_SECONDS["${name#*@}"]=$(( ${SUITE_SECONDS["${name#*@}"]:-0} + took ))
    counts="$(count_results "$formats" "$LOGS/$name.log")" || die "could not read the counts of $LOGS/$name.log"
    read -r passed failed summaries <<<"$counts"
    if [ "$summaries" -eq 0 ]; then
        printf '   no test summary (%s) in %s: counted as 1 failed\n' "$formats" "$LOGS/$name.log"
        passed=0 failed=1
    elif [ $((passed + failed)) -eq 0 ]; then
        printf '   its summaries count no test in %s: counted as 1 failed\n' "$LOGS/$name.log"
        failed=1
    fi
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
    if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
        FAILED_SUITES+=("$name")
        printf '   FAILED (%s passed, %s failed, %s s); last lines of %s:\n' "$passed" "$failed" "$took" "$LOGS/$name.log"
        tail -40 "$LOGS/$name.log" | sed 's/^/   | /'
    else
        printf '   ok (%s passed, %s s)\n' "$passed" "$took"
    fi
}

# on_major MAJOR: the suites that follow run on MAJOR's server, in its own
# test cluster (cluster_dir is per major).
on_major() {
    use_pg "$1"
    PGXS="$(dirname "$(dirname "$(dirname "$("$PG_CONFIG" --pgxs)")")")"
    DSN="host=$(cluster_dir test) port=$PORT user=postgres"
}

# The extension built for this major and installed into its server, and a
# fresh test cluster started: CREATE EXTENSION there gives the version the
# build says.
install_check() {
    install_extension
    cluster_reset test
    cluster_start test "$PORT"
    recreate_db test "$PORT" chronicle_install
    local passed=0 failed=0 got server
    got="$(cluster_psql test "$PORT" chronicle_install -Atc "SELECT extversion FROM pg_extension WHERE extname = 'chronicle'")"
    server="$(cluster_psql test "$PORT" chronicle_install -Atc "SHOW server_version_num")"
    step "the server is PostgreSQL $PG_MAJOR ($server)" [ "${server:0:2}" = "${PG_MAJOR%%-*}" ]
    step "CREATE EXTENSION gives chronicle $got, the build's version ($CHRONICLE_VERSION)" \
        [ "$got" = "$CHRONICLE_VERSION" ]
    echo "RESULT passed=$passed failed=$failed"
    [ "$failed" -eq 0 ]
}

# step NAME COMMAND...: one check of a suite made of commands (lint, install,
# package), counted in the suite's local passed and failed (bash's dynamic
# scope); a failed one does not stop the others.
step() {
    local name=$1
    shift
    log "$name"
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
    fi
}

lint() {
    local passed=0 failed=0
    cd "$ROOT"
    step "cargo fmt" cargo fmt --all -- --check
    step "clippy, the workspace" cargo clippy --workspace --all-targets -- -D warnings
    # The core and the facade as the browser gets them (the core's tests use
    # proptest, which does not build for wasm32).
    step "clippy, the core for wasm32" \
        cargo clippy -p chronicle-core --lib --target wasm32-unknown-unknown -- -D warnings
    step "clippy, the wasm facade for wasm32" \
        cargo clippy -p chronicle-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings
    echo "RESULT passed=$passed failed=$failed"
    [ "$failed" -eq 0 ]
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

# load_demo_data DB: the Order example and the dashboard's dataset.
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
# screenshots in tests/results/screenshots. One test file at a time: they
# share the database, and some compare the page with it.
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
        node --test --test-concurrency=1) || status=1
    dashboard_stop test
    return $status
}

pgrx_tests() {
    cd "$ROOT"
    cargo pgrx test "pg$PG_MAJOR" -p chronicle --runas "$PGUSER_OS" --pgdata "/var/tmp/chronicle-pgrx-pg$PG_MAJOR"
}

# The SQL golden files (pg_regress) in a fresh database.
regress() {
    recreate_db test "$PORT" chronicle_regress
    run_regress test "$PORT" chronicle_regress
}

# The README's examples, in order, against a fresh demo database
# (tests/readme/run.py: its output blocks and `-- → value`s compared).
readme() {
    recreate_db test "$PORT" chronicle_readme
    "$VENV/bin/python" "$ROOT/tests/readme/run.py" "$DSN" "$PORT"
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
    "$PGXS/src/test/regress/pg_regress" --bindir="$PGBIN" --use-existing --host="$(cluster_dir "$1")" --port="$2" \
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

# Upgrades: each released version with data, ALTER EXTENSION UPDATE, the
# catalog compared with a fresh install; then the SQL suites on the
# database updated from the previous release (0.5.0).
upgrade() {
    local status=0 old
    for old in 0.1.0 0.2.0 0.3.0 0.4.0 0.4.1 0.5.0; do
        "$VENV/bin/python" "$ROOT/tests/upgrade/run.py" upgrade "$DSN" "$old" || status=1
    done
    sql_suites test "$PORT" chronicle_upgrade 0.5.0 || status=1
    return $status
}

# Dump and restore: the same data (and a tenant's stream) through pg_dump and
# pg_restore into a fresh cluster, compared, then the SQL suites there.
restore() {
    local status=0
    cluster_reset restore
    cluster_start restore "$RESTORE_PORT"
    "$VENV/bin/python" "$ROOT/tests/upgrade/run.py" restore "$DSN" \
        "host=$(cluster_dir restore) port=$RESTORE_PORT user=postgres" || status=1
    sql_suites restore "$RESTORE_PORT" chronicle_restored || status=1
    cluster_reset restore
    return $status
}

# PostgreSQL itself upgraded under Chronicle: a cluster of the oldest major
# with data, shut down cleanly, pg_upgrade'd to the newest (whose build of
# Chronicle is installed first), checked there (tests/upgrade/run.py). The
# old cluster runs 15.19 (15-pypi in scripts/postgres.lock): Debian's 15.20
# writes column options no 18 here accepts.
pg_upgrade_test() {
    local old=15-pypi new=$PG_NEWEST status=0 old_bin old_data new_dir
    local port=$PGUP_PORT state="$STATE/pg-upgrade.pickle"
    local py=("$VENV/bin/python" "$ROOT/tests/upgrade/run.py")
    on_major "$old"
    install_extension
    cluster_reset pgup
    cluster_start pgup "$port"
    "${py[@]}" pg-upgrade-before "host=$(cluster_dir pgup) port=$port user=postgres" "$state" || status=1
    cluster_stop pgup
    [ "$status" = 0 ] || { cluster_reset pgup; return 1; }
    old_bin=$PGBIN old_data="$(cluster_dir pgup)/data"
    on_major "$new"
    install_extension
    cluster_reset pgup
    new_dir="$(cluster_dir pgup)"
    # Data checksums must match the old cluster's (off: initdb's default
    # before 18; 18 turns them on unless told otherwise).
    local checksums=()
    [ "${old%%-*}" -lt 18 ] && [ "$new" -ge 18 ] && checksums=(--no-data-checksums)
    cluster_init pgup "${checksums[@]}"
    log "pg_upgrade $old -> $new"
    (cd "$new_dir" && sudo -u "$PGUSER_OS" env "${PG_SERVER_ENV[@]}" "$PGBIN/pg_upgrade" --old-bindir="$old_bin" --new-bindir="$PGBIN" \
        --old-datadir="$old_data" --new-datadir="$new_dir/data" --username=postgres \
        --old-port="$port" --new-port="$port" --socketdir="$new_dir") || status=1
    if [ "$status" = 0 ]; then
        cluster_start pgup "$port"
        "${py[@]}" pg-upgrade-after "host=$new_dir port=$port user=postgres" "$state" || status=1
    else
        local f
        for f in "$new_dir"/data/pg_upgrade_output.d/*/*.txt "$new_dir"/data/pg_upgrade_output.d/*/log/pg_upgrade_dump_*.log; do
            [ -f "$f" ] && { echo "--- $f"; tail -25 "$f"; }
        done
        echo "RESULT passed=0 failed=1"
    fi
    cluster_reset pgup
    on_major "$old"
    cluster_reset pgup
    on_major "$MAIN_MAJOR"
    return $status
}

# The packages of every major (./chronicle package), and the oldest major's
# .deb installed with dpkg into Debian's own server: the files it owns, then
# CREATE EXTENSION, an append and a read there; then removed again. Whatever
# the build tree had installed into Debian's directories goes first, so that
# only the package can answer.
package_test() {
    local passed=0 failed=0 version=$CHRONICLE_VERSION major deb files debian=${PG_MAJORS[0]}
    "$ROOT/scripts/package.sh" || { echo "RESULT passed=0 failed=1"; return 1; }
    for major in "${PG_MAJORS[@]}"; do
        deb="$ROOT/target/packages/postgresql-$major-chronicle_${version}_amd64.deb"
        files="$(dpkg-deb --contents "$deb" 2>/dev/null | awk '{print $NF}')"
        step "postgresql-$major-chronicle_${version}_amd64.deb has the library in /usr/lib/postgresql/$major/lib" \
            grep -qx "./usr/lib/postgresql/$major/lib/chronicle.so" <<<"$files"
        step "... and the control files and every install and upgrade script (chronicle's, chronicle_message_store's) in /usr/share/postgresql/$major/extension" \
            bash -c 'want=$(cd "$1/sql" && ls chronicle--*.sql; echo "chronicle--$3.sql"; echo chronicle.control
                            cd "$1/message_store" && echo chronicle_message_store.control && ls sql)
            got=$(grep "^./usr/share/postgresql/$2/extension/[^/]\+$" <<<"$4" | xargs -n1 basename)
            [ "$(sort -u <<<"$want")" = "$(sort -u <<<"$got")" ]' _ "$ROOT" "$major" "$version" "$files"
        step "... and depends on postgresql-$major" \
            grep -q "^postgresql-$major," <<<"$(dpkg-deb --field "$deb" Depends)"
        if [ "$(pg_lock "$major" source)" = pypi ]; then
            step "chronicle-$version-pg$major-x86_64-linux.tar.gz holds lib/chronicle.so and share/extension/chronicle.control" \
                bash -c 'l=$(tar -tzf "$1"); grep -qx lib/chronicle.so <<<"$l" && grep -qx share/extension/chronicle.control <<<"$l"' \
                _ "$ROOT/target/packages/chronicle-$version-pg$major-x86_64-linux.tar.gz"
        fi
    done

    # Debian's server: nothing of Chronicle's in its directories but the package's.
    on_major "$debian"
    local pkg="postgresql-$debian-chronicle" libdir sharedir
    libdir="$("$PG_CONFIG" --pkglibdir)" sharedir="$("$PG_CONFIG" --sharedir)/extension"
    dpkg -r "$pkg" >/dev/null 2>&1 || true
    rm -f "$libdir/chronicle.so" "$sharedir"/chronicle.control "$sharedir"/chronicle--*.sql \
        "$sharedir"/chronicle_message_store.control "$sharedir"/chronicle_message_store--*.sql
    step "dpkg -i postgresql-$debian-chronicle_${version}_amd64.deb into Debian's PostgreSQL $debian" \
        dpkg -i "$ROOT/target/packages/${pkg}_${version}_amd64.deb"
    step "the package owns $libdir/chronicle.so" \
        bash -c '[ "$(dpkg -S "$1" 2>/dev/null | cut -d: -f1)" = "$2" ]' _ "$libdir/chronicle.so" "$pkg"
    cluster_reset package
    cluster_start package "$PACKAGE_PORT"
    local q=(cluster_psql package "$PACKAGE_PORT" chronicle_package -Atc)
    recreate_db package "$PACKAGE_PORT" chronicle_package >/dev/null
    step "CREATE EXTENSION chronicle gives version $version" \
        [ "$("${q[@]}" "SELECT extversion FROM pg_extension WHERE extname = 'chronicle'")" = "$version" ]
    step "an append there returns version 1" \
        [ "$("${q[@]}" "SELECT chronicle.append_event('package-1', 'Installed', '{\"by\": \"dpkg\"}')")" = 1 ]
    step "a read returns the event" \
        [ "$("${q[@]}" "SELECT event_type || ' ' || (data ->> 'by') FROM chronicle.read_stream('package-1')")" = "Installed dpkg" ]
    step "CREATE EXTENSION chronicle_message_store there, and message-db's write_message returns position 1" \
        [ "$("${q[@]}" "CREATE EXTENSION chronicle_message_store" \
            -c "SELECT message_store.write_message(gen_random_uuid()::varchar, 'package-1', 'Read', '{}')")" = 1 ]
    cluster_reset package
    step "dpkg -r removes the package's files" \
        bash -c 'dpkg -r "$1" >/dev/null && [ ! -e "$2" ] && [ ! -e "$3/chronicle.control" ] \
                 && [ ! -e "$3/chronicle_message_store.control" ]' _ "$pkg" "$libdir/chronicle.so" "$sharedir"
    echo "RESULT passed=$passed failed=$failed"
    [ "$failed" -eq 0 ]
}

isolation() {
    recreate_db test "$PORT" chronicle_isolation
    local out="$STATE/isolation"
    rm -rf "$out" && mkdir -p "$out"
    "$PGXS/src/test/isolation/pg_isolation_regress" --bindir="$PGBIN" --use-existing --host="$(cluster_dir test)" \
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

# The lifecycle under load: deletions, truncations and retention while eight
# sessions append and a follower reads the feed; the worker's retention;
# space reused after VACUUM.
lifecycle() {
    recreate_db test "$PORT" chronicle_lifecycle
    "$VENV/bin/python" "$ROOT/tests/lifecycle/run.py" "$DSN dbname=chronicle_lifecycle" chronicle_lifecycle
}

# Crash safety: SIGKILL of the postmaster in the middle of an 8-session
# append load, four times; nothing acknowledged lost, the feed dense again.
crash() {
    recreate_db test "$PORT" chronicle_crash
    "$VENV/bin/python" "$ROOT/tests/crash/run.py" "$DSN dbname=chronicle_crash" "$(cluster_dir test)/data" \
        "CHRONICLE_PG=$PG_MAJOR bash -c 'source \"$ROOT/scripts/lib.sh\"; cluster_start test $PORT'" --rounds 4
}

# Replicas: a hot standby of the test cluster (pg_basebackup with a fast
# checkpoint: a spread one takes minutes after the other suites; streaming
# replication) serves reads, refuses writes, and after promotion takes appends.
replica() {
    local status=0 standby
    standby="$(cluster_dir replica)"
    recreate_db test "$PORT" chronicle_replica
    cluster_reset replica
    install -d -o "$PGUSER_OS" -g "$PGUSER_OS" -m 700 "$standby"
    sudo -u "$PGUSER_OS" "$PGBIN/pg_basebackup" --checkpoint=fast -h "$(cluster_dir test)" -p "$PORT" -U postgres \
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

# The global feed: randomised writers and a follower, consumer groups, what
# holds the feed back (and what does not), ending a stalled appender, a
# server restart, and pg_dump/pg_restore into a fresh cluster.
feed() {
    local status=0 py=("$VENV/bin/python" "$ROOT/tests/feed/run.py")
    recreate_db test "$PORT" chronicle_feed
    "${py[@]}" random "$DSN dbname=chronicle_feed" || status=1
    recreate_db test "$PORT" chronicle_feed
    "${py[@]}" groups "$DSN dbname=chronicle_feed" || status=1
    recreate_db test "$PORT" chronicle_feed
    "${py[@]}" liveness "$DSN dbname=chronicle_feed" || status=1
    recreate_db test "$PORT" chronicle_feed
    "${py[@]}" stalled "$DSN dbname=chronicle_feed" "$(cluster_dir test)/server.log" || status=1
    recreate_db test "$PORT" chronicle_feed
    "${py[@]}" restart-before "$DSN dbname=chronicle_feed" || status=1
    cluster_stop test
    cluster_start test "$PORT"
    "${py[@]}" restart-after "$DSN dbname=chronicle_feed" || status=1
    cluster_reset restore
    cluster_start restore "$RESTORE_PORT"
    "${py[@]}" dump-restore "$DSN dbname=chronicle_feed" \
        "host=$(cluster_dir restore) port=$RESTORE_PORT user=postgres dbname=chronicle_restored" || status=1
    cluster_reset restore
    return $status
}

# The five documents Chronicle replaces, each re-enacted through it
# (tests/seeds/run.py creates its own database).
seeds() {
    "$VENV/bin/python" "$ROOT/tests/seeds/run.py" "$DSN"
}

# The Python clients: psycopg by hand (tests/clients/python), and the
# package chronicle-eventstore (clients/python): its wheel built (setuptools
# from the registry, pinned in its pyproject.toml) and installed into the
# venv, then its tests, its examples and eventsourcing's own test cases
# against its persistence module, each test case in a database of its own.
clients_python() {
    local wheels="$STATE/wheels/chronicle-eventstore"
    rm -rf "$wheels" && mkdir -p "$wheels"
    "$VENV/bin/pip" wheel -q --disable-pip-version-check --no-deps -w "$wheels" "$ROOT/clients/python" || return 1
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$wheels"/chronicle_eventstore-*.whl \
        || return 1
    recreate_db test "$PORT" chronicle_clients
    {
        (cd "$ROOT/tests/clients/python" &&
            CHRONICLE_DSN="$DSN dbname=chronicle_clients" "$VENV/bin/python" -m unittest -v test_client)
        (cd "$ROOT/clients/python/tests" &&
            CHRONICLE_ADMIN_DSN="$DSN" "$VENV/bin/python" -m unittest -v test_package test_store test_aio test_examples test_eventsourcing test_eventsourcing_apps)
    } 2>&1 | unittest_result 2
}

# unittest_result RUNS: passes unittest's output (stdin) through and adds a
# RESULT line; fails unless there were RUNS runs and none failed.
unittest_result() {
    tee /dev/stderr | python3 -c '
import re, sys
t = sys.stdin.read()
runs = [int(n) for n in re.findall(r"^Ran (\d+) tests?", t, re.M)]
bad = 0
for f in re.finditer(r"^FAILED \((.*)\)", t, re.M):
    bad += sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", f[1]))
print(f"RESULT passed={sum(runs) - bad} failed={bad}")
sys.exit(1 if bad or len(runs) != int(sys.argv[1]) else 0)' "$1"
}

# message-db's Python client, unchanged, against chronicle_message_store
# (each test case in a database of its own).
message_store_tests() {
    (cd "$ROOT/tests/message_store" && CHRONICLE_ADMIN_DSN="$DSN" "$VENV/bin/python" -m unittest -v test_message_db_py) 2>&1 \
        | unittest_result 1
}

clients_node() {
    recreate_db test "$PORT" chronicle_clients
    cd "$ROOT/tests/clients/node"
    CHRONICLE_PGHOST="$(cluster_dir test)" CHRONICLE_PGPORT="$PORT" node --test
}

on_major "$MAIN_MAJOR"
suite core cargo -- cargo test --manifest-path "$ROOT/Cargo.toml" -p chronicle-core
suite lint result -- lint
# The cargo-fuzz targets, briefly (./chronicle fuzz runs them longer).
suite fuzz result -- env FUZZ_SECONDS="${FUZZ_SECONDS:-20}" "$ROOT/scripts/fuzz.sh"
suite wasm node,cargo -- wasm_tests
suite pgrx cargo -- pgrx_tests
suite install result -- install_check
suite regress pg_regress -- regress
suite readme result -- readme
suite vectors-sql result -- vectors_sql
suite isolation pg_regress -- isolation
suite concurrency result -- concurrency
suite lifecycle result -- lifecycle
suite hostile result -- hostile
suite security result -- security
# upgrade and restore: their own checks, then the SQL suites (sql_suites).
suite upgrade result,pg_regress -- upgrade
suite restore result,pg_regress -- restore
suite crash result -- crash
suite replica result -- replica
suite feed result -- feed
suite clients-python result -- clients_python
suite message-store result -- message_store_tests
suite clients-node node -- clients_node
suite seeds result -- seeds
suite parity node -- parity
suite browser node -- browser
cluster_stop test

# The other majors: the suites in MAJOR_SUITES, each in its own cluster.
for major in "${OTHER_MAJORS[@]}"; do
    on_major "$major"
    suite "install@$major" result -- install_check
    suite "regress@$major" pg_regress -- regress
    suite "vectors-sql@$major" result -- vectors_sql
    suite "isolation@$major" pg_regress -- isolation
    suite "concurrency@$major" result -- concurrency
    suite "lifecycle@$major" result -- lifecycle
    suite "hostile@$major" result -- hostile
    suite "security@$major" result -- security
    suite "upgrade@$major" result,pg_regress -- upgrade
    suite "restore@$major" result,pg_regress -- restore
    suite "crash@$major" result -- crash
    suite "replica@$major" result -- replica
    suite "feed@$major" result -- feed
    cluster_stop test
done
on_major "$MAIN_MAJOR"
suite pg-upgrade result -- pg_upgrade_test
suite package result -- package_test

# A suite without its `suite` call above would be skipped silently.
EVERY_SUITE=("${SUITES[@]}" "${CROSS_SUITES[@]}")
for major in "${OTHER_MAJORS[@]}"; do
    for s in "${MAJOR_SUITES[@]}"; do EVERY_SUITE+=("$s@$major"); done
done
for s in "${EVERY_SUITE[@]}"; do
    if wanted "$s" && [[ " ${RAN[*]} " != *" $s "* ]]; then
        printf 'suite %s is in SUITES but never ran\n' "$s"
        FAILED_SUITES+=("$s")
        TOTAL_FAILED=$((TOTAL_FAILED + 1))
    fi
done

echo
main_seconds=0
for key in "${!SUITE_SECONDS[@]}"; do
    contains "$key" "${OTHER_MAJORS[@]}" || main_seconds=$((main_seconds + SUITE_SECONDS[$key]))
done
printf 'time: PostgreSQL %s and the suites without a server %d s' "$MAIN_MAJOR" "$main_seconds"
for major in "${OTHER_MAJORS[@]}"; do
    [ -n "${SUITE_SECONDS[$major]:-}" ] && printf ', %s %d s' "$major" "${SUITE_SECONDS[$major]}"
done
echo
if [ ${#FAILED_SUITES[@]} -gt 0 ]; then
    echo "failed suites: ${FAILED_SUITES[*]} (logs in $LOGS)"
fi
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ]
