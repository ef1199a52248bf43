#!/usr/bin/env bash
# The retention benchmark: 8 pgbench clients append single events to 1,000
# streams of one type, with a retention rule that keeps each stream's last
# 20 events (the retention worker cutting every BENCH_RETENTION_INTERVAL,
# default 5 s) against the same load without a rule, alternating twice in
# the same run. In the steady state retention removes as many events as
# are appended. Goal: the append rate with retention within 10 % of the
# rate without (ratio >= 0.9). Before each run a pass of apply_retention()
# leaves nothing to cut, so that the run without retention has no removal
# under way; the retention worker's CPU time is printed. A follower reads the feed
# through read_all during every run and prints the latency from append to
# delivery: a retention step holds the feed back while it runs.
#
# BENCH_SECONDS, BENCH_CLIENTS and BENCH_RETENTION_INTERVAL override the
# defaults.
source "$(dirname "$0")/lib.sh"

PORT="${BENCH_PORT:-54349}"
DB=chronicle_bench_retention
SECONDS_PER_RUN="${BENCH_SECONDS:-30}"
INTERVAL="${BENCH_RETENTION_INTERVAL:-5s}"
CLIENTS="${BENCH_CLIENTS:-8}"
WORK="$STATE/bench"
mkdir -p "$WORK"

install_extension
cluster_reset bench
cluster_start bench "$PORT"
recreate_db bench "$PORT" "$DB"
q() { cluster_psql bench "$PORT" "$DB" -Atq "$@"; }
# Checkpoints every few seconds (the default max_wal_size of 1 GB fills in
# about ten at this rate) would measure full-page writes more than either
# load: a server taking 30k writes/s is given room.
q -c "ALTER SYSTEM SET max_wal_size = '8GB'" -c "SELECT pg_reload_conf()" >/dev/null
# The worker reads the setting when it starts.
q -c "ALTER DATABASE $DB SET chronicle.retention_interval = '$INTERVAL'"
# 1,000 streams of a type with a rule and 1,000 of a type without one; the
# rule stays on: a run appends to one set or the other.
q -c "SELECT count(chronicle.append_event('t-' || g, 'Read', '{}', stream_type => 'Tele')) FROM generate_series(1, 1000) g" >/dev/null
q -c "SELECT count(chronicle.append_event('p-' || g, 'Read', '{}', stream_type => 'Plain')) FROM generate_series(1, 1000) g" >/dev/null
q -c "SELECT chronicle.set_retention('Tele', max_count => 20)" >/dev/null

for set in t p; do
    cat >"$WORK/retention-$set.sql" <<SQL
\set sid random(1, 1000)
SELECT chronicle.append_event('$set-' || :sid, 'Read', jsonb_build_object('kwh', 1.5, 'meter', 'm-1', 't', clock_timestamp()));
SQL
done

# tps SET: runs pgbench on one set (synchronous_commit off: the CPU is the
# limit), prints tps; the follower's latency goes to $WORK/follow-SET.txt.
tps() {
    "$VENV/bin/python" "$ROOT/bench/feed.py" follow \
        "host=$(cluster_dir bench) port=$PORT user=postgres dbname=$DB" "$SECONDS_PER_RUN" >"$WORK/follow-$1.txt" &
    local follower=$!
    PGOPTIONS="-c synchronous_commit=off" "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 \
        -T "$SECONDS_PER_RUN" -f "$WORK/retention-$1.sql" -h "$(cluster_dir bench)" -p "$PORT" -U postgres "$DB" \
        2>"$WORK/pgbench.err" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
    wait "$follower"
}
removed() { q -c "SELECT coalesce(sum(events), 0) FROM chronicle.lifecycle_log"; }
# The database's retention worker and its CPU time (clock ticks) so far.
worker_ticks() {
    local pid
    pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'chronicle retention' AND datname = current_database()")
    if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
        echo "$pid $(awk '{print $14 + $15}' "/proc/$pid/stat")"
    else
        echo "none 0"
    fi
}
# cpu_seconds "PID TICKS" "PID TICKS": the worker's CPU time between two
# readings ("?" if it was not the same worker).
cpu_seconds() {
    set -- $1 $2
    if [ "$1" = "$3" ] && [ "$1" != none ]; then
        awk "BEGIN {printf \"%.1f s\", ($4 - $2) / $(getconf CLK_TCK)}"
    else
        echo "? (the worker restarted)"
    fi
}
catch_up() { q -c "SELECT chronicle.apply_retention()" >/dev/null; }

report="$WORK/retention-report.txt"
: >"$report"
runs=()
for round in 1 2; do
    catch_up
    ticks0=$(worker_ticks)
    without=$(tps p)
    ticks1=$(worker_ticks)
    catch_up
    before=$(removed)
    ticks2=$(worker_ticks)
    with=$(tps t)
    ticks3=$(worker_ticks)
    after=$(removed)
    # What the worker has yet to cut: events above the rule in the streams.
    backlog=$(q -c "SELECT coalesce(sum(greatest(version - first_version + 1 - 20, 0)), 0) FROM chronicle.streams WHERE stream_type = 'Tele'")
    runs+=("$without $with $((after - before)) $backlog")
    printf 'round %s: without retention %8.0f tps, with %8.0f tps; %s events removed during the run, %s left above the rule at its end; worker CPU %s without, %s with\n' \
        "$round" "$without" "$with" "$((after - before))" "$backlog" \
        "$(cpu_seconds "$ticks0" "$ticks1")" "$(cpu_seconds "$ticks2" "$ticks3")" | tee -a "$report"
    printf '  without retention: %s\n  with retention:    %s\n' "$(cat "$WORK/follow-p.txt")" "$(cat "$WORK/follow-t.txt")" | tee -a "$report"
done
SECONDS_PER_RUN=$SECONDS_PER_RUN python3 - "${runs[@]}" <<'PY' | tee -a "$report"
import sys
rows = [tuple(float(x) for x in r.split()) for r in sys.argv[1:]]
without = sum(r[0] for r in rows) / len(rows)
with_ = sum(r[1] for r in rows) / len(rows)
seconds = float(__import__("os").environ.get("SECONDS_PER_RUN", "30"))
print(f"appends/s without retention {without:.0f}, with {with_:.0f}: ratio {with_ / without:.2f} (goal >= 0.9); "
      f"the worker removed {sum(r[2] for r in rows) / (len(rows) * seconds):.0f} events/s while "
      f"{with_:.0f}/s were appended")
PY
cluster_stop bench
