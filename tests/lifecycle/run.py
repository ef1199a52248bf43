"""The lifecycle under load: deletions, truncations and retention while
eight sessions append, and a follower reads the feed.

  concurrency: 6 sessions append to streams of their own and to shared ones,
    2 to "victim" streams that an operator truncates and deletes meanwhile;
    a follower reads the feed with a checkpoint throughout. Afterwards, against
    the database: every acknowledged event of the other streams is stored once
    at its version (1..n, gap-free) and the follower saw it exactly once, in
    feed order; each victim stream's stored versions are exactly
    first_version..version, with every acknowledged event from first_version
    on; the events removed are exactly what the lifecycle log counts; the feed
    returns no removed event, no position twice, and each stream's latest
    tombstone (it supersedes the earlier ones); a projection of what the
    follower read that forgets what the tombstones say holds exactly the
    stored events. So a lost, duplicated or resurrected event fails it.
  worker: the retention worker applies retention rules by itself (by count, then
    by age, every stream cut to its rule, the states kept).
  vacuum: a deleted stream's space is reused after VACUUM.

Usage: python run.py DSN DBNAME
"""

import pathlib
import random
import sys
import threading
import time
import uuid
from collections import defaultdict

import psycopg
from psycopg.types.json import Jsonb

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, finish  # noqa: E402

VICTIMS = [f"victim-{i}" for i in range(4)]
SHARED = [f"shared-{i}" for i in range(8)]


def writer(dsn, wid, ops, out, errors, victim_writer):
    rng = random.Random(wid)
    acked = []
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for op in range(ops):
                if victim_writer:
                    stream = rng.choice(VICTIMS)
                else:
                    stream = rng.choice(SHARED) if rng.random() < 0.5 else f"own-{wid}-{rng.randrange(20)}"
                event_id = str(uuid.uuid4())
                try:
                    v = conn.execute(
                        "SELECT chronicle.append_event(%s, 'Happened', %s, event_id => %s)",
                        [stream, Jsonb({"w": wid, "op": op}), event_id],
                    ).fetchone()[0]
                    acked.append((stream, v, event_id))
                except psycopg.errors.SerializationFailure:
                    pass
    except Exception as e:  # noqa: BLE001
        errors.append(f"writer {wid}: {e!r}")
    out[wid] = acked


def operator(dsn, stop, removed, errors):
    rng = random.Random(99)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not stop.is_set():
                stream = rng.choice(VICTIMS)
                row = conn.execute(
                    "SELECT version, first_version, deleted_at IS NOT NULL FROM chronicle.streams WHERE stream_id = %s",
                    [stream]).fetchone()
                if row is None:
                    time.sleep(0.005)
                    continue
                version, first, deleted = row
                if rng.random() < 0.2:
                    removed.append(conn.execute("SELECT chronicle.delete_stream(%s, reason => 'load')",
                                                [stream]).fetchone()[0])
                elif not deleted and version - 3 > first:
                    removed.append(conn.execute("SELECT chronicle.truncate_stream(%s, %s)",
                                                [stream, version - 2]).fetchone()[0])
                time.sleep(rng.random() * 0.02)
    except Exception as e:  # noqa: BLE001
        errors.append(f"operator: {e!r}")


def follower(dsn, stop, seen, errors):
    """Reads the feed after its checkpoint until told to stop, then drains it."""
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            checkpoint = 0
            draining = False
            while True:
                rows = conn.execute(
                    "SELECT global_position, stream_id, version, event_id::text, event_type, "
                    "       (data ->> 'to_version')::bigint "
                    "FROM chronicle.read_all(%s, 500)", [checkpoint]).fetchall()
                seen.extend(rows)
                if rows:
                    checkpoint = rows[-1][0]
                    continue
                if draining:
                    return
                if stop.is_set():
                    conn.execute("SELECT chronicle.seal()")
                    draining = True
                    continue
                time.sleep(0.01)
    except Exception as e:  # noqa: BLE001
        errors.append(f"follower: {e!r}")


def concurrency(dsn, ops):
    with psycopg.connect(dsn, autocommit=True) as conn:
        for s in VICTIMS:
            conn.execute("SELECT chronicle.append_event(%s, 'Opened', '{}')", [s])
    out, errors, removed, seen = {}, [], [], []
    stop = threading.Event()
    writers = [threading.Thread(target=writer, args=(dsn, w, ops, out, errors, w >= 6)) for w in range(8)]
    others = [threading.Thread(target=operator, args=(dsn, stop, removed, errors)),
              threading.Thread(target=follower, args=(dsn, stop, seen, errors))]
    for t in writers + others:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in others:
        t.join()
    check("no session failed", not errors, "\n".join(errors))
    acked = [a for w in out.values() for a in w]
    check(f"the operator removed events while appends ran ({len(removed)} operations, {sum(removed)} events)",
          len(removed) >= 5 and sum(removed) > 0, str(removed))

    with psycopg.connect(dsn, autocommit=True) as conn:
        stored = {(s, v): str(e) for s, v, e in conn.execute(
            "SELECT stream_id, version, event_id FROM chronicle.event_log WHERE version > 0").fetchall()}
        heads = {s: (v, f, d) for s, v, f, d in conn.execute(
            "SELECT stream_id, version, first_version, deleted_at IS NOT NULL FROM chronicle.streams").fetchall()}
        logged = conn.execute("SELECT coalesce(sum(events), 0) FROM chronicle.lifecycle_log").fetchone()[0]
        tombstones = {s: (v, str(e)) for s, v, e in conn.execute(
            "SELECT stream_id, version, event_id FROM chronicle.event_log WHERE version < 0").fetchall()}
        # Each stream's removals, and the tombstone its latest one left.
        removals = {s: (n, str(e)) for s, n, e in conn.execute(
            "SELECT stream_id, count(*), (array_agg(event_id ORDER BY id DESC))[1] FROM chronicle.lifecycle_log "
            "WHERE event_id IS NOT NULL GROUP BY stream_id").fetchall()}
        event_log_tombstones = len(tombstones)
        conn.execute("SELECT chronicle.seal()")
        feed = conn.execute("SELECT global_position, stream_id, version, event_id::text FROM chronicle.read_all(0, 1000000)").fetchall()
        dangling = conn.execute(DANGLING).fetchone()[0]
        holes = conn.execute("SELECT count(*) FROM chronicle.feed f, unnest(f.ids) AS u(id) WHERE u.id = 0").fetchone()[0]

    others_acked = [a for a in acked if a[0] not in VICTIMS]
    lost = [a for a in others_acked if stored.get((a[0], a[1])) != a[2]]
    check(f"every acknowledged event of the other streams is stored at its version ({len(others_acked)})", not lost, str(lost[:5]))
    by_stream = defaultdict(list)
    for s, v in stored:
        by_stream[s].append(v)
    gaps = [s for s, vs in by_stream.items() if s not in VICTIMS and sorted(vs) != list(range(1, heads[s][0] + 1))]
    check("the other streams' versions are 1..n without gaps, as their heads say", not gaps, str(gaps[:5]))
    bad_victims = []
    for s in VICTIMS:
        version, first, deleted = heads[s]
        want = [] if deleted else list(range(first, version + 1))
        if sorted(by_stream.get(s, [])) != want:
            bad_victims.append((s, version, first, deleted, sorted(by_stream.get(s, []))))
        missing = [a for a in acked if a[0] == s and a[1] >= first and not deleted and stored.get((s, a[1])) != a[2]]
        if missing:
            bad_victims.append((s, "acknowledged and missing", missing[:3]))
    check("each victim stream stores exactly first_version..version (nothing while deleted), every acknowledged event from first_version on",
          not bad_victims, str(bad_victims))
    victim_total = 4 + len([a for a in acked if a[0] in VICTIMS])
    victim_stored = sum(len(by_stream.get(s, [])) for s in VICTIMS)
    check(f"the events removed are exactly what the lifecycle log counts ({logged})",
          victim_total - victim_stored == logged == sum(removed), f"{victim_total} - {victim_stored} vs {logged}, {sum(removed)}")
    # A stream keeps one tombstone, its latest removal's, which supersedes the
    # others (versions -1, -2, ... never reused: the n-th removal's is -n).
    want = {s: (-n, e) for s, (n, e) in removals.items()}
    check(f"each stream keeps one tombstone, its latest removal's, at version -removals ({len(want)} streams)",
          tombstones == want, f"{sorted(tombstones.items())[:3]} vs {sorted(want.items())[:3]}")

    positions = [r[0] for r in feed]
    check("the feed returns no position twice, in increasing order", positions == sorted(set(positions)))
    check(f"no chunk of the feed points at a removed event ({holes} entries blanked)", dangling == 0 and holes > 0,
          f"{dangling} dangling")
    in_feed = {(r[1], r[2]) for r in feed if r[2] > 0}
    check("the feed holds every stored event and no removed one", in_feed == set(stored),
          f"missing {sorted(set(stored) - in_feed)[:5]}, removed but returned {sorted(in_feed - set(stored))[:5]}")
    check("the feed holds every tombstone and no superseded one",
          {(r[1], r[2]) for r in feed if r[2] < 0} == {(s, v) for s, (v, _) in tombstones.items()}
          and sum(1 for r in feed if r[2] < 0) == event_log_tombstones)

    followed = [r[0] for r in seen]
    check(f"the follower never saw a position twice or out of order ({len(followed)} events)",
          followed == sorted(set(followed)))
    seen_ids = defaultdict(int)
    for r in seen:
        seen_ids[r[3]] += 1
    missed = [a for a in others_acked if seen_ids.get(a[2]) != 1]
    check("the follower saw every acknowledged event of the other streams exactly once", not missed, str(missed[:5]))
    stale = [r for r in seen if r[2] > 0 and (r[1], r[2]) not in stored and r[1] not in VICTIMS]
    check("the follower saw no event that is not stored (outside the removed ones)", not stale, str(stale[:5]))
    # A projection of the feed that forgets a stream's versions up to a
    # tombstone's to_version holds exactly the events that remain, though
    # each stream keeps only its latest tombstone.
    projection = {}
    for _, stream, version, event_id, _, to_version in seen:
        if version > 0:
            projection[(stream, version)] = event_id
        else:
            for key in [k for k in projection if k[0] == stream and k[1] <= to_version]:
                del projection[key]
    check("a projection that forgets what the tombstones say holds exactly the stored events",
          projection == stored, f"kept {sorted(set(projection) - set(stored))[:5]}, "
          f"missing {sorted(set(stored) - set(projection))[:5]}")


def wait_for(what, probe, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if probe():
            return True
        time.sleep(0.1)
    return check(what, False, "timed out")


# Entries of the feed's chunks that name an event no longer stored.
DANGLING = """SELECT count(*) FROM chronicle.feed f, unnest(f.ids) AS u(id)
 WHERE u.id <> 0 AND NOT EXISTS (SELECT FROM chronicle.event_log e WHERE e.id = u.id)"""


def worker_retention(dsn, dbname):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {dbname} SET chronicle.retention_interval = '100ms'")
        # The retention worker reads the setting when it starts: end a
        # running one; set_retention starts another.
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = 'chronicle retention' AND datname = current_database()")
        time.sleep(0.2)
        for i in range(50):
            conn.execute("SELECT chronicle.append_event(%s, 'Reading', %s, stream_type => 'reading')",
                         [f"meter-{i % 5}", Jsonb({"n": i, f"k{i % 7}": i})])
        states = {s: conn.execute("SELECT chronicle.state_at(%s)", [s]).fetchone()[0] for s in (f"meter-{i}" for i in range(5))}
        at5 = conn.execute("SELECT chronicle.state_at('meter-0', 5)").fetchone()[0]
        conn.execute("SELECT chronicle.set_retention('reading', max_count => 4)")

        def cut_to(n):
            rows = conn.execute("SELECT version - first_version + 1 FROM chronicle.streams WHERE stream_type = 'reading'").fetchall()
            return len(rows) == 5 and all(r[0] == n for r in rows)

        if wait_for("the worker cuts every stream to max_count", lambda: cut_to(4)):
            check("the worker cut every stream to max_count 4 by itself", True)
        check("the states at the head are unchanged",
              states == {s: conn.execute("SELECT chronicle.state_at(%s)", [s]).fetchone()[0] for s in states})
        check("the state at the base is kept", conn.execute("SELECT chronicle.state_at('meter-0', 6)").fetchone()[0] is not None)
        check("... and the cut history is gone (55Z02)",
              conn.execute("SELECT count(*) FROM chronicle.read_stream('meter-0') WHERE version <= 5").fetchone()[0] == 0
              and at5 is not None)
        who = conn.execute("SELECT DISTINCT operation, performed_by FROM chronicle.lifecycle_log "
                           "WHERE stream_type = 'reading'").fetchall()
        check("the worker's cuts are recorded as retention", [w[0] for w in who] == ["retention"], str(who))
        conn.execute("SELECT chronicle.set_retention('reading', max_age => '1 second')")
        time.sleep(1.2)
        if wait_for("the worker cuts every event older than max_age", lambda: cut_to(0)):
            check("the worker removed every event older than max_age", True)
        check("the states at the head are still unchanged (kept as the bases)",
              states == {s: conn.execute("SELECT chronicle.state_at(%s)", [s]).fetchone()[0] for s in states})
        conn.execute("SELECT chronicle.seal()")
        check("no chunk of the feed points at an event the worker removed", conn.execute(DANGLING).fetchone()[0] == 0)
        v = conn.execute("SELECT chronicle.append_event('meter-0', 'Reading', '{\"n\": 99}')").fetchone()[0]
        check("an append continues the cut stream's versions", v == 11, str(v))
        conn.execute("SELECT chronicle.set_retention('reading')")
        conn.execute(f"ALTER DATABASE {dbname} RESET chronicle.retention_interval")


def vacuum(dsn):
    payload = "x" * 1500
    with psycopg.connect(dsn, autocommit=True) as conn:
        def fill(stream):
            for i in range(0, 3000, 500):
                conn.execute("SELECT chronicle.append_events(%s, %s)",
                             [stream, Jsonb([{"event_type": "Bulk", "data": {"i": j, "p": payload}} for j in range(i, i + 500)])])
        conn.execute("VACUUM chronicle.event_log")
        base = conn.execute("SELECT pg_table_size('chronicle.event_log')").fetchone()[0]
        fill("bulk-1")
        conn.execute("SELECT chronicle.seal()")
        grown = conn.execute("SELECT pg_table_size('chronicle.event_log')").fetchone()[0] - base
        check("a 3,000-event stream takes space", grown > 3000 * 1000, str(grown))
        check("delete_stream removes it", conn.execute("SELECT chronicle.delete_stream('bulk-1')").fetchone()[0] == 3000)
        # VACUUM removes the rows once no snapshot can see them: wait until
        # no other session (the sealer's transactions) is older than the delete.
        after = conn.execute("SELECT pg_current_xact_id()::xid").fetchone()[0]
        wait_for("the sessions' snapshots move past the delete", lambda: conn.execute(
            "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() "
            "AND backend_xmin IS NOT NULL AND age(backend_xmin) >= age(%s::xid)", [after]).fetchone()[0])
        conn.execute("VACUUM chronicle.event_log")
        fill("bulk-2")
        again = conn.execute("SELECT pg_table_size('chronicle.event_log')").fetchone()[0] - base
        check("after VACUUM, the same volume appended again reuses its space",
              again < grown * 1.3, f"first {grown} bytes, both {again} bytes")


def main():
    dsn, dbname = sys.argv[1], sys.argv[2]
    concurrency(dsn, ops=int(sys.argv[3]) if len(sys.argv) > 3 else 150)
    worker_retention(dsn, dbname)
    vacuum(dsn)
    finish()


main()
