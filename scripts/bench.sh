#!/usr/bin/env bash
# The append benchmark: pgbench against a private cluster, Chronicle vs raw
# INSERTs into an equally indexed table, measured in the same run.
#
#   single: 8 clients, one event per call to 10,000 random streams, with
#           synchronous_commit on and off (goal: ratio >= 0.9 on, >= 0.75 off),
#           over pgbench's prepared and simple (default) protocols
#   batch:  100-event append_events vs a 100-row INSERT (goal: ratio >= 0.7)
#   feed:   the single-event load with a follower on read_all against the raw
#           load with an equivalent follower on the raw table: append ratio
#           and latency from append to delivery (p50/p99); then read_all
#           throughput vs a raw indexed scan of the same rows (goal >= 0.8)
#
# BENCH_SECONDS and BENCH_CLIENTS override the defaults.
source "$(dirname "$0")/lib.sh"

PORT="${BENCH_PORT:-54349}"
DB=chronicle_bench
SECONDS_PER_RUN="${BENCH_SECONDS:-8}"
CLIENTS="${BENCH_CLIENTS:-8}"
WORK="$STATE/bench"
mkdir -p "$WORK"

install_extension
cluster_reset bench
cluster_start bench "$PORT"
recreate_db bench "$PORT" "$DB"
cluster_psql bench "$PORT" "$DB" -f "$ROOT/bench/baseline.sql"

PAYLOAD='{"amount": 42, "currency": "EUR", "note": "benchmark event"}'
cat >"$WORK/raw.sql" <<SQL
\set sid random(1, 10000)
INSERT INTO bench_raw (stream_id, stream_type, version, event_type, data)
VALUES ('s-' || :sid, 'Bench', nextval('bench_raw_version'), 'Deposited', '$PAYLOAD');
SQL
cat >"$WORK/append_timed.sql" <<SQL
\set sid random(1, 10000)
SELECT chronicle.append_event('s-' || :sid, 'Deposited', jsonb_build_object('t', clock_timestamp()), stream_type => 'Bench');
SQL
cat >"$WORK/raw_timed.sql" <<SQL
\set sid random(1, 10000)
INSERT INTO bench_raw (stream_id, stream_type, version, event_type, data)
VALUES ('s-' || :sid, 'Bench', nextval('bench_raw_version'), 'Deposited', jsonb_build_object('t', clock_timestamp()));
SQL
cat >"$WORK/append.sql" <<SQL
\set sid random(1, 10000)
SELECT chronicle.append_event('s-' || :sid, 'Deposited', '$PAYLOAD', stream_type => 'Bench');
SQL
python3 - "$WORK" "$PAYLOAD" <<'PY'
import json, sys
work, payload = sys.argv[1], json.loads(sys.argv[2])
events = json.dumps([{"event_type": "Deposited", "data": dict(payload, n=i)} for i in range(100)])
rows = ",\n".join(
    f"('b-' || :sid, 'Bench', nextval('bench_raw_version'), 'Deposited', '{json.dumps(dict(payload, n=i))}')"
    for i in range(100))
open(f"{work}/batch_raw.sql", "w").write(
    "\\set sid random(1, 10000)\n"
    f"INSERT INTO bench_raw (stream_id, stream_type, version, event_type, data) VALUES\n{rows};\n")
open(f"{work}/batch_append.sql", "w").write(
    "\\set sid random(1, 10000)\n"
    f"SELECT chronicle.append_events('b-' || :sid, '{events}', stream_type => 'Bench');\n")
PY

# tps FILE SYNC MODE: runs pgbench, prints transactions per second.
tps() {
    PGOPTIONS="-c synchronous_commit=$2" "$PGBIN/pgbench" -n -M "$3" -c "$CLIENTS" -j 2 \
        -T "$SECONDS_PER_RUN" -f "$1" -h "$(cluster_dir bench)" -p "$PORT" -U postgres "$DB" \
        2>"$WORK/pgbench.err" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

# compare LABEL RAW_FILE CHRONICLE_FILE SYNC MODE: alternates baseline and
# Chronicle twice (the machine's speed drifts) and prints the mean tps and ratio.
compare() {
    local r1 c1 r2 c2
    r1=$(tps "$2" "$4" "$5"); c1=$(tps "$3" "$4" "$5")
    r2=$(tps "$2" "$4" "$5"); c2=$(tps "$3" "$4" "$5")
    python3 -c "
raw, chr = ($r1 + $r2) / 2, ($c1 + $c2) / 2
print(f'{\"$1\":<44} {raw:10.0f} {chr:10.0f} {chr / raw:7.2f}')" | tee -a "$report"
}

report="$WORK/report.txt"
{
    echo "Chronicle append benchmark: $CLIENTS clients, ${SECONDS_PER_RUN}s per run, $(nproc) cores, $(date -u +%F)"
    printf '%-44s %10s %10s %7s\n' "workload (pgbench protocol)" "raw tps" "chronicle" "ratio"
} | tee "$report"
for mode in prepared simple; do
    for sync in on off; do
        compare "single event, sync_commit=$sync ($mode)" "$WORK/raw.sql" "$WORK/append.sql" "$sync" "$mode"
    done
done
compare "100-event batch, sync_commit=on (prepared)" "$WORK/batch_raw.sql" "$WORK/batch_append.sql" on prepared
echo "(mean of two alternating runs each; a batch transaction carries 100 events)" | tee -a "$report"

# What least privilege costs: append_event as shipped (SECURITY DEFINER with
# SET search_path) against the same C function declared without either, as
# in 0.1 (both called by a superuser, so both may write).
cluster_psql bench "$PORT" "$DB" -c "CREATE FUNCTION bench_append_invoker(stream_id text, event_type text,
    data jsonb, metadata jsonb DEFAULT '{}', expected_version bigint DEFAULT NULL, event_id uuid DEFAULT NULL,
    stream_type text DEFAULT NULL, correlation_id uuid DEFAULT NULL, causation_id uuid DEFAULT NULL,
    actor text DEFAULT NULL, occurred_at timestamptz DEFAULT NULL, schema_version int DEFAULT 1)
    RETURNS bigint VOLATILE LANGUAGE c AS '\$libdir/chronicle', 'append_event_wrapper'"
sed 's/chronicle.append_event(/bench_append_invoker(/' "$WORK/append.sql" >"$WORK/append_invoker.sql"
printf '%-44s %10s %10s %7s\n' "privileges (pgbench protocol)" "invoker" "definer" "ratio" | tee -a "$report"
for sync in off on; do
    compare "single event, sync_commit=$sync (prepared)" "$WORK/append_invoker.sql" "$WORK/append.sql" "$sync" prepared
done

# The feed under load: the same single-event load, while a follower reads
# as fast as it can: Chronicle's through read_all, the baseline's an
# equivalent loop over the raw table by position (bench/feed.py).
# follow_tps FOLLOWER SCRIPT OUT
follow_tps() {
    "$VENV/bin/python" "$ROOT/bench/feed.py" "$1" \
        "host=$(cluster_dir bench) port=$PORT user=postgres dbname=$DB" "$SECONDS_PER_RUN" >"$3" &
    local follower=$! t
    t=$(tps "$2" on prepared)
    wait "$follower"
    echo "$t"
}
r1=$(follow_tps follow-raw "$WORK/raw_timed.sql" "$WORK/follow-raw1.txt")
c1=$(follow_tps follow "$WORK/append_timed.sql" "$WORK/follow1.txt")
r2=$(follow_tps follow-raw "$WORK/raw_timed.sql" "$WORK/follow-raw2.txt")
c2=$(follow_tps follow "$WORK/append_timed.sql" "$WORK/follow2.txt")
python3 -c "
raw, chr = ($r1 + $r2) / 2, ($c1 + $c2) / 2
print(f'{\"single event + follower, both, sync_commit=on (prepared)\":<44} {raw:10.0f} {chr:10.0f} {chr / raw:7.2f}')" | tee -a "$report"
cat "$WORK/follow-raw1.txt" "$WORK/follow-raw2.txt" "$WORK/follow1.txt" "$WORK/follow2.txt" | tee -a "$report"
"$VENV/bin/python" "$ROOT/bench/feed.py" scan "host=$(cluster_dir bench) port=$PORT user=postgres dbname=$DB" \
    | tee -a "$report"

# Sanity: every Chronicle stream is gap-free after the load.
cluster_psql bench "$PORT" "$DB" -Atc "
  SELECT CASE WHEN count(*) = 0 THEN 'check: all streams gap-free'
              ELSE 'check FAILED: ' || count(*) || ' streams with gaps' END
    FROM (SELECT stream_id FROM chronicle.events GROUP BY stream_id
          HAVING max(version) <> count(*)) g" | tee -a "$report"
cluster_psql bench "$PORT" "$DB" -Atc "
  SELECT CASE WHEN count(*) = max(global_position) AND count(*) = count(global_position)
              THEN 'check: the feed is dense (' || count(*) || ' events at positions 1..' || count(*) || ')'
              ELSE 'check FAILED: the feed is not dense' END
    FROM chronicle.events" | tee -a "$report"
cluster_stop bench
