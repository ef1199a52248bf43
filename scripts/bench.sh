#!/usr/bin/env bash
# The append benchmark: pgbench against a private cluster, Chronicle vs raw
# INSERTs into an equally indexed table, measured in the same run.
#
#   single: 8 clients, one event per call to 10,000 random streams, 10 s,
#           with synchronous_commit on and off (goal: ratio >= 0.9 on, >= 0.75 off)
#   batch:  100-event append_events vs a 100-row INSERT (goal: ratio >= 0.7)
#
# BENCH_SECONDS and BENCH_CLIENTS override the defaults.
source "$(dirname "$0")/lib.sh"

PORT="${BENCH_PORT:-54349}"
DB=chronicle_bench
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
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

# tps FILE SYNC: runs pgbench, prints transactions per second.
tps() {
    PGOPTIONS="-c synchronous_commit=$2" "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 \
        -T "$SECONDS_PER_RUN" -f "$1" -h "$(cluster_dir bench)" -p "$PORT" -U postgres "$DB" \
        2>"$WORK/pgbench.err" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

report="$WORK/report.txt"
{
    echo "Chronicle append benchmark: $CLIENTS clients, ${SECONDS_PER_RUN}s per run, $(nproc) cores, $(date -u +%F)"
    printf '%-34s %12s %12s %7s\n' "workload" "raw tps" "chronicle" "ratio"
} | tee "$report"
for sync in on off; do
    raw=$(tps "$WORK/raw.sql" "$sync")
    chr=$(tps "$WORK/append.sql" "$sync")
    printf '%-34s %12s %12s %7s\n' "single event, sync_commit=$sync" "$raw" "$chr" "$(ratio "$chr" "$raw")" | tee -a "$report"
done
raw=$(tps "$WORK/batch_raw.sql" on)
chr=$(tps "$WORK/batch_append.sql" on)
printf '%-34s %12s %12s %7s\n' "100-event batch, sync_commit=on" "$raw" "$chr" "$(ratio "$chr" "$raw")" | tee -a "$report"
echo "(tps = transactions per second; a batch transaction carries 100 events)" | tee -a "$report"

# Sanity: every Chronicle stream is gap-free after the load.
cluster_psql bench "$PORT" "$DB" -Atc "
  SELECT CASE WHEN count(*) = 0 THEN 'check: all streams gap-free'
              ELSE 'check FAILED: ' || count(*) || ' streams with gaps' END
    FROM (SELECT stream_id FROM chronicle.events GROUP BY stream_id
          HAVING max(version) <> count(*)) g" | tee -a "$report"
cluster_stop bench
