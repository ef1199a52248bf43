#!/usr/bin/env bash
# The message-db benchmark: write_message of chronicle_message_store against
# message-db's own write_message (1.3.0, as published in the npm package
# @eventide/message-db@1.3.1, installed by its own install.sh into another
# database of the same server; fetched into .state, never committed), both
# called as role message_store as message-db's clients do. pgbench, 8
# clients, one message per call to 10,000 random streams in 10 categories,
# synchronous_commit on and off, alternating, twice each: calls per second
# and the ratio Chronicle / message-db. Then the same with one category
# only (every message-db writer waits for the same category lock).
#
# BENCH_SECONDS (default 8) and BENCH_CLIENTS (default 8) override.
source "$(dirname "$0")/lib.sh"

PORT="${BENCH_PORT:-54349}"
SECONDS_PER_RUN="${BENCH_SECONDS:-8}"
CLIENTS="${BENCH_CLIENTS:-8}"
WORK="$STATE/bench-message-store"
MESSAGE_DB_PACKAGE="@eventide/message-db@1.3.1"
mkdir -p "$WORK"

if [ ! -f "$WORK/package/database/install.sh" ]; then
    log "fetching message-db ($MESSAGE_DB_PACKAGE, npm registry)"
    (cd "$WORK" && npm pack --silent "$MESSAGE_DB_PACKAGE" >/dev/null && tar xzf eventide-message-db-*.tgz) \
        || die "could not fetch $MESSAGE_DB_PACKAGE"
fi

install_extension
cluster_reset bench
cluster_start bench "$PORT"
recreate_db bench "$PORT" chronicle_ms
cluster_psql bench "$PORT" chronicle_ms -qc "CREATE EXTENSION chronicle_message_store"
# message-db's installer: psql and createdb from PATH, the server from PG*.
(export PATH="$PGBIN:$PATH" PGHOST="$(cluster_dir bench)" PGPORT="$PORT" PGUSER=postgres DATABASE_NAME=message_db;
 bash "$WORK/package/database/install.sh" >"$WORK/install.log" 2>&1) \
    || { tail -20 "$WORK/install.log" >&2; die "message-db's install.sh failed"; }

for categories in 10 1; do
    cat >"$WORK/write-$categories.sql" <<SQL
\set s random(1, 10000)
SELECT message_store.write_message(gen_random_uuid()::varchar, 'bench' || (:s % $categories) || '-' || :s, 'Deposited',
                                   '{"amount": 42, "currency": "EUR", "note": "benchmark message"}');
SQL
done

# tps DB FILE SYNC: pgbench as role message_store (search_path "\$user"),
# prints calls per second.
tps() {
    PGOPTIONS="-c synchronous_commit=$3" "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 \
        -T "$SECONDS_PER_RUN" -f "$2" -h "$(cluster_dir bench)" -p "$PORT" -U message_store "$1" \
        2>"$WORK/pgbench.err" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | grep . \
        || { cat "$WORK/pgbench.err" >&2; die "pgbench failed"; }
}

# compare LABEL FILE SYNC: message-db and Chronicle alternating, twice.
compare() {
    local m1 c1 m2 c2
    m1=$(tps message_db "$2" "$3"); c1=$(tps chronicle_ms "$2" "$3")
    m2=$(tps message_db "$2" "$3"); c2=$(tps chronicle_ms "$2" "$3")
    python3 -c "
mdb, chr = ($m1 + $m2) / 2, ($c1 + $c2) / 2
print(f'{\"$1\":<46} {mdb:10.0f} {chr:10.0f} {chr / mdb:7.2f}   (runs {$m1:.0f} / {$m2:.0f}, {$c1:.0f} / {$c2:.0f})')" \
        | tee -a "$report"
}

report="$WORK/report.txt"
{
    echo "write_message: message-db 1.3.0 vs chronicle_message_store, $CLIENTS clients, ${SECONDS_PER_RUN}s per run, $(nproc) cores, PostgreSQL $PG_MAJOR, $(date -u +%F)"
    printf '%-46s %10s %10s %7s\n' "workload (pgbench, prepared)" "message-db" "chronicle" "ratio"
} | tee "$report"
for sync in on off; do
    compare "10,000 streams in 10 categories, sync=$sync" "$WORK/write-10.sql" "$sync"
done
for sync in on off; do
    compare "10,000 streams in 1 category, sync=$sync" "$WORK/write-1.sql" "$sync"
done
echo "(calls per second, mean of two alternating runs each)" | tee -a "$report"

# Sanity: both stores hold every message written, each stream gap-free.
cluster_psql bench "$PORT" chronicle_ms -qc "SELECT FROM chronicle.seal()"
for db in message_db chronicle_ms; do
    PGOPTIONS="-c search_path=message_store" cluster_psql bench "$PORT" "$db" -Atc "
      SELECT '$db: ' || sum(n) || ' messages in ' || count(*) || ' streams, '
             || CASE WHEN bool_and(n = last + 1) THEN 'every stream gap-free' ELSE 'GAPS' END
        FROM (SELECT stream_name, count(*) AS n, max(position) AS last FROM messages GROUP BY stream_name) s" \
        | tee -a "$report"
done
cluster_stop bench
