#!/usr/bin/env bash
# The personal-data benchmark: what sealing and opening cost, measured
# against the same work without personal data in the same run.
#
#   append: append_event of an event with 3 personal members (sealed with
#           the subject's key: the subject's lock, its key, three
#           encryptions) against the same event of a type without personal
#           data; 8 clients, 10,000 streams, sync_commit on and off (goal:
#           ratio >= 0.87, i.e. at most 15 % more per append). Twice: with
#           10,000 subjects (each pgbench run connects anew, so most appends
#           read their subject's key from the table), and with 100 (each
#           backend soon holds every key it needs, as a long-lived
#           connection of an application does for its active subjects)
#   read:   one backend reading 100,000 such events through chronicle.events
#           (every member opened) against the same events without personal
#           data; members opened per second (goal: > 200,000 per core)
#   instructions: what one backend spends per append (valgrind's callgrind,
#           single-user mode: no client, no network, no other process), the
#           steadier figure on a noisy machine: plain, a subject whose key is
#           in the table, one whose key the backend holds, a subject's first
#           event (its key made)
#
# BENCH_SECONDS and BENCH_CLIENTS override the defaults.
source "$(dirname "$0")/lib.sh"

PORT="${BENCH_PORT:-54349}"
DB=chronicle_bench_personal
SECONDS_PER_RUN="${BENCH_SECONDS:-8}"
CLIENTS="${BENCH_CLIENTS:-8}"
WORK="$STATE/bench"
mkdir -p "$WORK"

install_extension
cluster_reset bench
cluster_start bench "$PORT"
recreate_db bench "$PORT" "$DB"
q() { cluster_psql bench "$PORT" "$DB" "$@"; }
q -qAt -o /dev/null -c "SELECT chronicle.define_personal_data('Registered', '/customer_id', '{/email,/phone,/address}')"

# The same event: of a type with personal data (of 10,000 or 100 subjects),
# and of one without.
for run in Registered:10000 Warm:100 Plain:10000; do
    type=${run%%:*}; subjects=${run##*:}
    [ "$type" = Warm ] && name=Registered || name=$type
    cat >"$WORK/personal_$type.sql" <<SQL
\set sid random(1, 10000)
SELECT chronicle.append_event('c-' || :sid, '$name', jsonb_build_object('customer_id', 'cust-' || (:sid % $subjects),
  'email', 'customer' || :sid || '@example.org', 'phone', '+44 20 7946 ' || :sid,
  'address', jsonb_build_object('street', '1 High Street', 'city', 'London', 'zip', 'N1 9GU'),
  'tier', 2, 'note', 'benchmark event'), stream_type => 'Customer');
SQL
done

# tps FILE SYNC: runs pgbench (prepared), prints transactions per second.
tps() {
    PGOPTIONS="-c synchronous_commit=$2" "$PGBIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 \
        -T "$SECONDS_PER_RUN" -f "$1" -h "$(cluster_dir bench)" -p "$PORT" -U postgres "$DB" \
        2>"$WORK/pgbench.err" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}

report="$WORK/personal-report.txt"
{
    echo "Chronicle personal-data benchmark: $CLIENTS clients, ${SECONDS_PER_RUN}s per run, $(nproc) cores, $(date -u +%F)"
    printf '%-44s %10s %10s %7s\n' "append_event (prepared)" "plain tps" "personal" "ratio"
} | tee "$report"
tps "$WORK/personal_Registered.sql" off >/dev/null  # the 10,000 subjects' keys made
for run in Registered:10000 Warm:100; do
    for sync in off on; do
        p1=$(tps "$WORK/personal_Plain.sql" "$sync"); s1=$(tps "$WORK/personal_${run%%:*}.sql" "$sync")
        p2=$(tps "$WORK/personal_Plain.sql" "$sync"); s2=$(tps "$WORK/personal_${run%%:*}.sql" "$sync")
        python3 -c "
plain, sealed = ($p1 + $p2) / 2, ($s1 + $s2) / 2
label = '3 personal members, ${run##*:} subjects, sync_commit=$sync'
print(f'{label:<44} {plain:10.0f} {sealed:10.0f} {sealed / plain:7.2f}')" | tee -a "$report"
    done
done
echo "(mean of two alternating runs each)" | tee -a "$report"

# Reading: 100,000 events of each kind in their own streams, read by one
# backend through chronicle.events (the data of every row opened, its text
# built so that nothing is skipped); best of three.
q -q -o /dev/null <<'SQL'
SELECT count(chronicle.append_events('read-' || t || '-' || b,
         (SELECT jsonb_agg(jsonb_build_object('event_type', t, 'data', jsonb_build_object(
                 'customer_id', 'cust-' || b || '-' || (i % 50), 'email', 'customer' || i || '@example.org',
                 'phone', '+44 20 7946 ' || i, 'address', jsonb_build_object('city', 'London', 'n', i),
                 'tier', 2, 'note', 'benchmark event')))
            FROM generate_series(1, 1000) i), stream_type => 'ReadBench'))
  FROM unnest(ARRAY['Registered', 'Plain']) t, generate_series(1, 100) b;
SQL
read_ms() {
    q -At -c '\timing on' \
      -c "SELECT sum(length(data::text)) FROM chronicle.events WHERE stream_id LIKE 'read-$1-%'" \
      -c "SELECT sum(length(data::text)) FROM chronicle.events WHERE stream_id LIKE 'read-$1-%'" \
      -c "SELECT sum(length(data::text)) FROM chronicle.events WHERE stream_id LIKE 'read-$1-%'" 2>&1 \
        | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | head -1
}
same=$(q -At -c "SELECT count(*) FROM chronicle.events a JOIN chronicle.events b
                  ON b.stream_id = replace(a.stream_id, 'read-Registered-', 'read-Plain-') AND b.version = a.version
                 WHERE a.stream_id LIKE 'read-Registered-%' AND a.data = b.data")
plain=$(read_ms Plain)
sealed=$(read_ms Registered)
python3 -c "
plain, sealed = $plain, $sealed
members = 3 * 100_000
print(f'read 100,000 events, one backend: plain {plain:.0f} ms, personal {sealed:.0f} ms (ratio {plain / sealed:.2f})')
print(f'members opened per second: {members / (sealed / 1000):,.0f} overall, '
      f'{members / max(sealed - plain, 1e-9) * 1000:,.0f} counting only the time over plain reads')
print(f'check: {$same} of 100,000 opened events equal their plain twins')" | tee -a "$report"
cluster_stop bench

# Instructions per append, one backend in single-user mode under callgrind.
if ! command -v valgrind >/dev/null; then
    log "apt-get install valgrind"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi
N=400
data_dir="$(cluster_dir bench)/data"
# callgrind's files, where the server's OS user may write them.
grind=$(mktemp -d)
chown "$PGUSER_OS" "$grind"
# statements TYPE STREAM_PREFIX SUBJECTS [COUNT]: appends (N), each to its own stream.
statements() {
    python3 -c "
import sys
t, p, m, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
for i in range(n):
    print(f\"SELECT chronicle.append_event('{p}-{i}', '{t}', jsonb_build_object('customer_id', 'cust-{i % m}', \"
          f\"'email', 'customer{i}@example.org', 'phone', '+44 20 7946 {i}', 'address', jsonb_build_object(\"
          f\"'street', '1 High Street', 'city', 'London', 'zip', 'N1 9GU'), 'tier', 2, 'note', 'benchmark event'), \"
          f\"stream_type => 'Customer');\")
" "$1" "$2" "$3" "${4:-$N}"
}
# single [callgrind NAME]: runs stdin in a single-user backend; prints its instructions.
single() {
    local out="$grind/${2:-none}.out"
    if [ "${1:-}" = callgrind ]; then
        su -s /bin/sh "$PGUSER_OS" -c "valgrind --tool=callgrind --callgrind-out-file=$out \
            $PGBIN/postgres --single -D $data_dir -c synchronous_commit=off $DB" >/dev/null 2>&1
        sed -n 's/^summary: \([0-9]*\).*/\1/p; s/^totals: \([0-9]*\).*/\1/p' "$out" | head -1
    else
        su -s /bin/sh "$PGUSER_OS" -c "$PGBIN/postgres --single -D $data_dir $DB" >/dev/null 2>&1
    fi
}
# The streams and keys the measured runs find (version 2 then, like the plain ones).
{ statements Plain plain 1000000; statements Registered sealed 1000000; } | single
base=$(statements Plain plain 1 1 | single callgrind base)
plain=$(statements Plain plain 1000000 | single callgrind plain)
stored=$(statements Registered sealed 1000000 | single callgrind stored)
held=$({ statements Registered sealed 1000000; statements Registered sealed 1000000; } | single callgrind held)
first=$(statements Registered first 1000000 | sed 's/cust-/first-/' | single callgrind first)
python3 -c "
n, base = $N, $base
per = lambda total: (total - base) / (n - 1)
plain = per($plain)
rows = [('plain', plain), ('personal, the key read from its table', per($stored)),
        ('personal, the key held by the backend', ($held - $stored) / n),
        ('personal, the first event of a subject (key made)', per($first))]
print('instructions per append, one backend (callgrind, single-user mode):')
for name, x in rows:
    print(f'  {name:<46} {x / 1000:7.1f}k  ratio {plain / x:.2f}')" | tee -a "$report"
rm -rf "$grind"
