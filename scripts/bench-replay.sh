#!/usr/bin/env bash
# The replay benchmark: chronicle.state_at against its limit, an ordered scan
# of the stream's rows that reads every data (goal: <= 2x the scan), and
# against a PL/pgSQL fold with the same merge semantics; and with
# snapshots, state_at at the head of 10k, 100k and 1M-event streams (goal:
# time independent of stream length).
source "$(dirname "$0")/lib.sh"

PORT="${BENCH_PORT:-54349}"
DB=chronicle_bench_replay
install_extension
cluster_reset bench
cluster_start bench "$PORT"
recreate_db bench "$PORT" "$DB"
q() { cluster_psql bench "$PORT" "$DB" "$@"; }

log "building streams of 10k, 100k and 1M events (about a minute)"
q <<'SQL'
-- The baseline: the default reducer's merge (RFC 7396) in PL/pgSQL. The
-- benchmark's data is flat and has no nulls, so jsonb || is that merge.
CREATE FUNCTION plpgsql_fold(p_stream text) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    state jsonb := '{}';
    r record;
BEGIN
    FOR r IN SELECT data FROM chronicle.events WHERE stream_id = p_stream ORDER BY version LOOP
        state := state || r.data;
    END LOOP;
    RETURN state;
END $$;
CREATE FUNCTION fill(p_stream text, p_events int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR b IN 0 .. (p_events / 1000) - 1 LOOP
        PERFORM chronicle.append_events(p_stream,
            (SELECT jsonb_agg(jsonb_build_object('event_type', 'Counted',
                     'data', jsonb_build_object('n', b * 1000 + i, 'k' || (i % 10), i, 'amount', 1.25)))
               FROM generate_series(1, 1000) i),
            stream_type => 'Bench');
    END LOOP;
END $$;
SELECT fill('bench-10k', 10000);
SELECT fill('bench-100k', 100000);
SELECT fill('bench-1m', 1000000);
SQL

# ms SETUP SQL: runs SETUP, then SQL three times in one session; prints the
# best time of SQL in ms.
ms() {
    q -At -c "$1" -c '\timing on' -c "$2" -c "$2" -c "$2" 2>&1 \
        | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | head -1
}

report="$STATE/bench/replay-report.txt"
mkdir -p "$STATE/bench"
{
    echo "Chronicle replay benchmark, $(nproc) cores, $(date -u +%F) (best of 3, ms)"
    echo "state_at at the head of a 100k-event stream, snapshots off, vs an ordered scan of its rows and a PL/pgSQL fold:"
} | tee "$report"
nosnap="SET chronicle.snapshot_every = 0; DELETE FROM chronicle.snapshots"
same=$(q -At -c "$nosnap" -c "SELECT chronicle.state_at('bench-100k') = plpgsql_fold('bench-100k')")
plpgsql=$(ms "SELECT 1" "SELECT plpgsql_fold('bench-100k')")
chronicle=$(ms "$nosnap" "SELECT chronicle.state_at('bench-100k')")
# The limit: the stream's rows in version order, every data read (detoasted
# and looked at), nothing folded.
scan=$(ms "SELECT 1" "SELECT count(jsonb_typeof(data)) FROM (SELECT data FROM chronicle.event_log WHERE stream_id = 'bench-100k' ORDER BY version) s")
python3 -c "print(f'  ordered scan {$scan:9.1f}   chronicle.state_at {$chronicle:9.1f}   ratio {$chronicle / $scan:.1f}x the scan (goal <= 2x)')" | tee -a "$report"
python3 -c "print(f'  plpgsql fold {$plpgsql:9.1f}   chronicle.state_at {$chronicle:9.1f}   speed-up {$plpgsql / $chronicle:.1f}x   same state: $same')" | tee -a "$report"
echo "state_at at the head with snapshots (chronicle.snapshot_every = 100): the first call folds everything and leaves a snapshot, the next ones start from it:" | tee -a "$report"
for s in 10k 100k 1m; do
    cold=$(q -At -c "DELETE FROM chronicle.snapshots" -c '\timing on' \
        -c "SELECT chronicle.state_at('bench-$s')" 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
    warm=$(ms "SELECT 1" "SELECT chronicle.state_at('bench-$s')")
    printf '  %-6s events  first call (full fold) %9s ms   then %7s ms\n' "$s" "$cold" "$warm" | tee -a "$report"
done
cluster_stop bench
