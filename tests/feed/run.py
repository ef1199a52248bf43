"""Tests of the global feed against a running server (see scripts/test.sh).

Phases (each prints one "ok"/"FAIL" line per check and a RESULT line):

  random DSN        writers with random commit delays, aborts and deadlocks
                    (some write to another table first: their transaction
                    holds an id from before the events sealed meanwhile)
                    race a follower that checkpoints through read_all; every
                    committed event is delivered exactly once, at positions
                    1..N, each stream in version order, nothing else.
  liveness DSN      what holds the feed back: an idle transaction with an id
                    in another database, a read-only transaction, a pg_dump
                    of another database, a prepared transaction and a writer
                    that never appended delay no event by more than the seal
                    interval plus a margin; an open appender holds back
                    exactly the events that sort after its own, and
                    feed_status names it.
  stalled DSN LOG   chronicle.stalled_appender_action: terminate and cancel
                    end an appender that holds the feed back past the grace
                    period (the server log says why); off leaves it.
  groups DSN        3 consumers of one subscription (consumer groups) poll
                    and ack while writers append: together they receive every
                    event exactly once, each stream by one consumer, in order.
  restart-before DSN / restart-after DSN
                    a subscription and the feed survive a server restart (the
                    shell restarts the server between the two phases).
  dump-restore DSN RESTORE_DSN
                    pg_dump while an older transaction is still open (so the
                    dump holds a committed event not yet sealed), pg_restore
                    into a fresh cluster: positions, subscriptions, the late
                    event and new appends all come out right.

Usage: python run.py PHASE DSN [RESTORE_DSN | SERVER_LOG]
"""

import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict

import psycopg
from psycopg.types.json import Jsonb

# check() and finish(), shared by the suites: tests/support/checks.py, found
# from this file's place (so that the suite also runs by hand).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, finish  # noqa: E402


def append(cur, stream, data, event_id):
    cur.execute("SELECT chronicle.append_event(%s, 'Tick', %s, event_id => %s, stream_type => 'Feed')",
                [stream, Jsonb(data), event_id])


def writer(dsn, wid, seconds, committed, errors, rng):
    """Random transactions of 1-3 appends to 12 hot streams; 20 % roll back;
    30 % write to another table first and wait before their first append."""
    streams = [f"feed-{i}" for i in range(12)]
    deadline = time.monotonic() + seconds
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while time.monotonic() < deadline:
                ids = []
                rollback = rng.random() < 0.2
                try:
                    with conn.transaction(force_rollback=rollback):
                        cur = conn.cursor()
                        if rng.random() < 0.3:
                            cur.execute("INSERT INTO feed_side VALUES (%s)", [wid])
                            time.sleep(rng.random() * 0.02)
                        for _ in range(rng.randint(1, 3)):
                            eid = str(uuid.uuid4())
                            append(cur, rng.choice(streams), {"w": wid}, eid)
                            ids.append(eid)
                            time.sleep(rng.random() * 0.01)
                        time.sleep(rng.random() * 0.02)  # hold the transaction open
                    if not rollback:
                        committed.extend(ids)  # acknowledged: COMMIT returned
                except psycopg.errors.DeadlockDetected:
                    pass  # rejected: nothing of it may appear
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        errors.append(f"writer {wid}: {e!r}")


def follow(dsn, stop, delivered, errors, rng):
    """Follows the feed through read_all with a checkpoint, like a projection."""
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            checkpoint = 0
            while True:
                rows = conn.execute(
                    "SELECT global_position, event_id::text, stream_id, version FROM chronicle.read_all(%s, %s)",
                    [checkpoint, rng.randint(1, 50)]).fetchall()
                for row in rows:
                    delivered.append(row)
                if rows:
                    checkpoint = rows[-1][0]
                elif stop.is_set():
                    return
                else:
                    time.sleep(0.002)
    except Exception as e:  # noqa: BLE001
        errors.append(f"follower: {e!r}")


def wait_sealed(conn, timeout=10):
    """Waits until the sealer worker has handed out every committed event."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = conn.execute("SELECT waiting_events FROM chronicle.feed_status").fetchone()[0]
        if waiting == 0:
            return True
        time.sleep(0.02)
    return False


def phase_random(dsn):
    rng = random.Random(int(os.environ.get("SEED", "7")))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE feed_side (w int)")
    committed, delivered, errors = [], [], []
    stop = threading.Event()
    writers = [threading.Thread(target=writer, args=(dsn, w, 6, committed, errors, random.Random(rng.random())))
               for w in range(6)]
    follower = threading.Thread(target=follow, args=(dsn, stop, delivered, errors, random.Random(rng.random())))
    follower.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    with psycopg.connect(dsn, autocommit=True) as conn:
        check("the sealer worker seals everything on its own", wait_sealed(conn))
    time.sleep(0.1)
    stop.set()
    follower.join()
    for e in errors:
        print("  ", e)
    check("no writer or follower crashed", not errors)
    print(f"   committed {len(committed)} events, follower received {len(delivered)}")
    positions = [p for p, _, _, _ in delivered]
    ids = [e for _, e, _, _ in delivered]
    check("the follower received positions 1..N in order, no gap, no repeat",
          positions == list(range(1, len(positions) + 1)))
    check("every committed event received exactly once", sorted(ids) == sorted(committed),
          f"{len(set(committed) - set(ids))} missing, {len(ids) - len(set(ids))} repeated, "
          f"{len(set(ids) - set(committed))} not committed")
    per_stream = defaultdict(list)
    for _, _, stream, version in delivered:
        per_stream[stream].append(version)
    check("each stream received in version order 1..n",
          all(v == list(range(1, len(v) + 1)) for v in per_stream.values()))
    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT count(*), count(global_position), max(global_position) FROM chronicle.events").fetchone()
    check("nothing else is stored; every stored event has its position",
          stored == (len(committed), len(committed), len(committed) or None), str(stored))
    check("the run had aborted and concurrent transactions", len(committed) > 100)
    with psycopg.connect(dsn) as conn:
        late = conn.execute("""
            SELECT count(*) FROM (
              SELECT l.xmin::text::bigint AS xid,
                     max(l.seal_key::text::bigint) OVER (ORDER BY e.global_position
                                                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
                FROM chronicle.event_log l JOIN chronicle.events e USING (event_id)) t
             WHERE xid < before""").fetchone()[0]
    check("older transactions appended after younger ones' events (and came after them)", late > 0, str(late))


def phase_groups(dsn):
    n, streams = 3, [f"group-{i}" for i in range(30)]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT chronicle.create_subscription('grouped', stream_type => 'Group')")
        conn.execute("SELECT chronicle.append_event('other-1', 'Tick', '{}', stream_type => 'Other')")
    appended, received, errors = [], defaultdict(list), []
    done = threading.Event()

    def produce():
        rng = random.Random(3)
        with psycopg.connect(dsn, autocommit=True) as conn:
            for _ in range(600):
                eid = str(uuid.uuid4())
                conn.execute("SELECT chronicle.append_event(%s, 'Tick', '{}', event_id => %s, stream_type => 'Group')",
                             [rng.choice(streams), eid])
                appended.append(eid)
        done.set()

    def consume(k):
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                idle = 0
                while idle < 50:
                    rows = conn.execute(
                        "SELECT global_position, event_id::text, stream_id, version FROM chronicle.poll('grouped', 40, %s, %s)",
                        [k, n]).fetchall()
                    received[k].extend(rows)
                    if rows:
                        conn.execute("SELECT chronicle.ack('grouped', %s, %s)", [rows[-1][0], k])
                        idle = 0
                    else:
                        idle = idle + 1 if done.is_set() else 0
                        time.sleep(0.01)
        except Exception as e:  # noqa: BLE001
            errors.append(f"consumer {k}: {e!r}")

    threads = [threading.Thread(target=produce)] + [threading.Thread(target=consume, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        print("  ", e)
    check("no consumer crashed", not errors)
    all_ids = [e for k in received for _, e, _, _ in received[k]]
    check("3 consumers together received every event exactly once",
          sorted(all_ids) == sorted(appended), f"{len(all_ids)} received, {len(appended)} appended")
    owners = defaultdict(set)
    for k in received:
        for _, _, stream, _ in received[k]:
            owners[stream].add(k)
    check("each stream went to one consumer", all(len(o) == 1 for o in owners.values()))
    check("every consumer had work", all(received[k] for k in range(n)))
    in_order = True
    for k in received:
        per_stream = defaultdict(list)
        for pos, _, stream, version in received[k]:
            per_stream[stream].append((pos, version))
        for seq in per_stream.values():
            in_order &= [v for _, v in seq] == list(range(1, len(seq) + 1)) and seq == sorted(seq)
    check("each stream received in version order", in_order)
    with psycopg.connect(dsn) as conn:
        sub = conn.execute("SELECT last_position, events_processed, consumers FROM chronicle.subscriptions"
                           " WHERE name = 'grouped'").fetchone()
        head = conn.execute("SELECT chronicle.feed_head()").fetchone()[0]
    check("the group checkpoint reached the head and counted every event", sub == (head, 600, 3), str(sub))


# How long past chronicle.seal_interval an event may take to be delivered
# while nothing holds it back (a loaded 2-core machine included).
MARGIN = 1.0


def seal_interval(conn):
    """chronicle.seal_interval in seconds."""
    return conn.execute("SELECT setting::int FROM pg_settings WHERE name = 'chronicle.seal_interval'").fetchone()[0] / 1000


def append_tick(conn, stream):
    """Appends (and, in autocommit, commits) one event; returns its event_id."""
    eid = str(uuid.uuid4())
    append(conn.cursor(), stream, {}, eid)
    return eid


def delivered_after(conn, after, event_id, timeout):
    """Seconds until read_all(after) delivers event_id, or None."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        rows = conn.execute("SELECT event_id::text FROM chronicle.read_all(%s, 1000)", [after]).fetchall()
        if any(e == event_id for e, in rows):
            return time.monotonic() - start
        time.sleep(0.002)
    return None


def feed_ids(conn, after):
    return [e for e, in conn.execute("SELECT event_id::text FROM chronicle.read_all(%s, 1000)", [after]).fetchall()]


def phase_liveness(dsn):
    pgbin = os.environ["PGBIN"]
    other_dsn = dsn.replace("dbname=chronicle_feed", "dbname=chronicle_feed_other")
    with psycopg.connect(dsn.replace("dbname=chronicle_feed", "dbname=postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS chronicle_feed_other WITH (FORCE)")
        admin.execute("CREATE DATABASE chronicle_feed_other")
    with psycopg.connect(other_dsn, autocommit=True) as o:
        o.execute("CREATE TABLE t (x int)")
        o.execute("CREATE TABLE big AS SELECT g FROM generate_series(1, 1000) g")
    conn = psycopg.connect(dsn, autocommit=True)
    conn.execute("CREATE TABLE side (x int)")
    append_tick(conn, "live-0")
    interval = seal_interval(conn)

    # The blockers, each open until the end of the measurement.
    other = psycopg.connect(other_dsn)           # another database, idle in transaction with an id
    other.execute("INSERT INTO t VALUES (1)")
    locker = psycopg.connect(other_dsn)          # makes the pg_dump below long
    locker.execute("LOCK TABLE big IN ACCESS EXCLUSIVE MODE")
    dump = subprocess.Popen([f"{pgbin}/pg_dump", "-f", "/tmp/chronicle-feed-other.sql", "-d", other_dsn])
    reader = psycopg.connect(dsn)                # a read-only transaction in this database
    reader.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    reader.read_only = True
    reader.execute("SELECT count(*) FROM chronicle.events")
    prepared = psycopg.connect(dsn, autocommit=True)   # a prepared transaction that never touched Chronicle
    prepared.execute("BEGIN")
    prepared.execute("INSERT INTO side VALUES (1)")
    prepared.execute("PREPARE TRANSACTION 'feed_liveness'")
    writer_ = psycopg.connect(dsn)               # a writer of this database that never appended
    writer_.execute("INSERT INTO side VALUES (2)")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not conn.execute(
            "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'pg_dump'"
            " AND wait_event_type = 'Lock')").fetchone()[0]:
        time.sleep(0.05)
    check("pg_dump of the other database waits for its lock", time.monotonic() < deadline)

    head = conn.execute("SELECT chronicle.feed_head()").fetchone()[0]
    latencies, ids = [], []
    for i in range(20):
        eid = append_tick(conn, f"live-{i % 4}")
        ids.append(eid)
        latencies.append(delivered_after(conn, head, eid, interval + MARGIN + 5))
    oldest_is_older = conn.execute(
        "SELECT pg_snapshot_xmin(pg_current_snapshot()) < min(seal_key) FROM chronicle.event_log"
        " WHERE event_id = ANY(%s::uuid[])", [ids]).fetchone()[0]
    check("the cluster's oldest running transaction is older than every event measured (the 0.4 rule would wait)",
          oldest_is_older)
    delivered = [t for t in latencies if t is not None]
    check("every event was delivered while the blockers stayed open", len(delivered) == len(ids),
          f"{len(delivered)} of {len(ids)}")
    if delivered:
        print(f"   append to delivery with the blockers open: median {statistics.median(delivered) * 1000:.1f} ms, "
              f"max {max(delivered) * 1000:.1f} ms (seal_interval {interval * 1000:.0f} ms)")
        check(f"none of them delayed an event by more than seal_interval + {MARGIN} s",
              max(delivered) <= interval + MARGIN)
    check("the feed is in order: the events at the next positions",
          feed_ids(conn, head) == ids)
    status = conn.execute("SELECT waiting_events, open_appenders, holder_pid FROM chronicle.feed_status").fetchone()
    check("feed_status: no open appender, nothing held", status[1:] == (0, None), str(status))

    other.rollback()
    locker.rollback()
    check("the pg_dump of the other database completes", dump.wait(timeout=120) == 0)
    reader.commit()
    prepared.execute("ROLLBACK PREPARED 'feed_liveness'")
    writer_.rollback()
    for c in (other, locker, reader, prepared, writer_):
        c.close()

    # An open appender holds back exactly the events that sort after its own.
    head = conn.execute("SELECT chronicle.feed_head()").fetchone()[0]
    older = psycopg.connect(dsn)                 # appends first (the smaller key), commits later
    holder = psycopg.connect(dsn)                # appends next and stays open
    older_id = append_tick(older, "older-1")
    holder_id = append_tick(holder, "holder-1")
    older.commit()
    younger_id = append_tick(conn, "younger-1")
    check("the older appender's event is delivered while the holder is open",
          delivered_after(conn, head, older_id, interval + MARGIN) is not None)
    time.sleep(interval * 5 + 0.2)
    check("the younger appender's event waits for the holder", feed_ids(conn, head) == [older_id])
    status = conn.execute("SELECT waiting_events, open_appenders, holder_pid, holder_state, waiting_for"
                          " FROM chronicle.feed_status").fetchone()
    pid = holder.info.backend_pid
    check("feed_status names the holder: its pid, its state, what to do",
          status[:4] == (1, 1, pid, "idle in transaction") and f"pid {pid}" in status[4]
          and "idle in transaction" in status[4] and "chronicle.stalled_appender_action" in status[4], str(status))
    holder.commit()
    check("once the holder commits, its event and then the younger one follow",
          delivered_after(conn, head, younger_id, interval + MARGIN) is not None
          and feed_ids(conn, head) == [older_id, holder_id, younger_id], str(feed_ids(conn, head)))
    for c in (older, holder, conn):
        c.close()


def set_stalled_appender(dsn, action, grace="300ms"):
    """ALTER SYSTEM SET chronicle.stalled_appender_action/grace (None: RESET),
    then a reload, which the sealer worker reads before its next seal."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("LOAD 'chronicle'")  # its settings are known (15 and 16 refuse unknown ones)
        if action is None:
            conn.execute("ALTER SYSTEM RESET chronicle.stalled_appender_action")
            conn.execute("ALTER SYSTEM RESET chronicle.stalled_appender_grace")
        else:
            assert action in ("off", "cancel", "terminate") and grace.endswith("ms")
            conn.execute(f"ALTER SYSTEM SET chronicle.stalled_appender_action = '{action}'")
            conn.execute(f"ALTER SYSTEM SET chronicle.stalled_appender_grace = '{grace}'")
        conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.3)


def log_since(path, offset):
    with open(path, errors="replace") as f:
        f.seek(offset)
        return f.read()


def phase_stalled(dsn, log_path):
    conn = psycopg.connect(dsn, autocommit=True)
    append_tick(conn, "stall-0")
    interval = seal_interval(conn)
    try:
        # terminate: the session goes, its transaction rolls back, the feed moves on.
        set_stalled_appender(dsn, "terminate")
        offset = os.path.getsize(log_path)
        head = conn.execute("SELECT chronicle.feed_head()").fetchone()[0]
        a = psycopg.connect(dsn)
        append_tick(a, "stalled-1")
        pid = a.info.backend_pid
        waited = delivered_after(conn, head, append_tick(conn, "after-1"), 15)
        check("terminate: the event held back is delivered after the grace period",
              waited is not None and waited >= 0.25, str(waited))
        try:
            a.execute("SELECT 1")
            gone = False
        except psycopg.OperationalError:
            gone = True
        check("terminate: the holding session was terminated", gone)
        check("terminate: the server log says whom and why", any(
            f"chronicle: terminating the session with pid {pid}" in line and "held the global feed" in line
            for line in log_since(log_path, offset).splitlines()))
        check("terminate: its appended event is gone (rolled back)",
              conn.execute("SELECT count(*) FROM chronicle.event_log WHERE stream_id = 'stalled-1'").fetchone()[0] == 0)

        # cancel: the running statement is cancelled, which aborts the transaction.
        set_stalled_appender(dsn, "cancel")
        offset = os.path.getsize(log_path)
        head = conn.execute("SELECT chronicle.feed_head()").fetchone()[0]
        a = psycopg.connect(dsn)
        append_tick(a, "stalled-2")
        pid = a.info.backend_pid
        outcome = []

        def sleep_in_transaction():
            try:
                a.execute("SELECT pg_sleep(30)")
                outcome.append("finished")
            except psycopg.Error as e:  # noqa: PERF203
                outcome.append(type(e).__name__)

        t = threading.Thread(target=sleep_in_transaction)
        t.start()
        waited = delivered_after(conn, head, append_tick(conn, "after-2"), 15)
        t.join(15)
        check("cancel: the event held back is delivered", waited is not None, str(waited))
        check("cancel: the holder's running statement was cancelled", outcome == ["QueryCanceled"], str(outcome))
        check("cancel: the server log says whom and why", any(
            f"chronicle: cancelling the statement of the session with pid {pid}" in line
            for line in log_since(log_path, offset).splitlines()))
        a.rollback()
        a.close()

        # off (the default): the holder stays, the feed waits for it.
        set_stalled_appender(dsn, "off")
        head = conn.execute("SELECT chronicle.feed_head()").fetchone()[0]
        a = psycopg.connect(dsn)
        held_id = append_tick(a, "stalled-3")
        after_id = append_tick(conn, "after-3")
        time.sleep(1.0)
        check("off: past the grace period the event still waits", feed_ids(conn, head) == [])
        a.execute("SELECT 1")
        a.commit()
        check("off: the holder was left alone; once it commits, both follow",
              delivered_after(conn, head, after_id, interval + MARGIN) is not None
              and feed_ids(conn, head) == [held_id, after_id])
        a.close()
    finally:
        set_stalled_appender(dsn, None)
        conn.close()


STATE_FILE = "/tmp/chronicle-feed-restart.json"


def phase_restart_before(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT chronicle.create_subscription('survivor')")
        for i in range(20):
            conn.execute("SELECT chronicle.append_event(%s, 'Tick', '{}', stream_type => 'Restart')", [f"restart-{i % 4}"])
        conn.execute("SELECT chronicle.seal()")
        rows = conn.execute("SELECT global_position FROM chronicle.poll('survivor', 10)").fetchall()
        conn.execute("SELECT chronicle.ack('survivor', %s)", [rows[-1][0]])
        conn.execute("SELECT chronicle.pause_subscription('survivor')")
        feed = conn.execute("SELECT global_position, event_id::text FROM chronicle.events ORDER BY 1").fetchall()
        sub = conn.execute("SELECT last_position, status, events_processed FROM chronicle.subscriptions"
                           " WHERE name = 'survivor'").fetchone()
    check("before the restart: 10 events acknowledged", sub[0] == rows[-1][0] and sub[2] == 10)
    with open(STATE_FILE, "w") as f:
        json.dump({"feed": feed, "sub": list(sub)}, f)


def phase_restart_after(dsn):
    with open(STATE_FILE) as f:
        saved = json.load(f)
    with psycopg.connect(dsn, autocommit=True) as conn:
        feed = conn.execute("SELECT global_position, event_id::text FROM chronicle.events ORDER BY 1").fetchall()
        check("the feed is unchanged after the restart", [list(r) for r in feed] == saved["feed"])
        sub = conn.execute("SELECT last_position, status, events_processed FROM chronicle.subscriptions"
                           " WHERE name = 'survivor'").fetchone()
        check("the subscription kept its checkpoint and status", list(sub) == saved["sub"], str(sub))
        conn.execute("SELECT chronicle.resume_subscription('survivor')")
        conn.execute("SELECT chronicle.append_event('restart-9', 'Tick', '{}', stream_type => 'Restart')")
        # No explicit seal: the append starts a new sealer worker.
        sealed = wait_sealed(conn)
        check("after the restart a sealer runs again and seals new appends", sealed)
        rows = conn.execute("SELECT global_position FROM chronicle.poll('survivor', 100)").fetchall()
        check("polling resumes after the checkpoint",
              [r[0] for r in rows] == list(range(saved["sub"][0] + 1, len(saved["feed"]) + 2)))


def phase_dump_restore(dsn, restore_dsn):
    pgbin = os.environ["PGBIN"]
    dump = "/tmp/chronicle-feed.dump"
    with psycopg.connect(dsn, autocommit=True) as conn, psycopg.connect(dsn) as older:
        conn.execute("SELECT chronicle.create_subscription('copied', after_position => 3)")
        conn.execute("SELECT chronicle.ack('copied', 5)")
        for i in range(10):
            conn.execute("SELECT chronicle.append_event(%s, 'Tick', '{}', stream_type => 'Dump')", [f"dump-{i % 3}"])
        conn.execute("SELECT chronicle.seal()")
        # An older transaction stays open: a younger committed event cannot be
        # sealed yet, so the dump holds it without a position.
        older.execute("SELECT chronicle.append_event('dump-older', 'Tick', '{}', stream_type => 'Dump')")
        late = str(uuid.uuid4())
        conn.execute("SELECT chronicle.append_event('dump-late', 'Tick', '{}', event_id => %s, stream_type => 'Dump')", [late])
        conn.execute("SELECT chronicle.seal()")
        unsealed = conn.execute("SELECT global_position FROM chronicle.events WHERE event_id = %s", [late]).fetchone()[0]
        check("the younger event waits for the older transaction", unsealed is None)
        source = conn.execute("SELECT global_position, event_id::text FROM chronicle.events"
                              " WHERE global_position IS NOT NULL ORDER BY 1").fetchall()
        head = conn.execute("SELECT chronicle.feed_head()").fetchone()[0]
        subprocess.run([f"{pgbin}/pg_dump", "-Fc", "-f", dump, dsn], check=True)
        older.commit()
    with psycopg.connect(restore_dsn.replace("dbname=chronicle_restored", "dbname=postgres"), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS chronicle_restored WITH (FORCE)")
        admin.execute("CREATE DATABASE chronicle_restored")
    subprocess.run([f"{pgbin}/pg_restore", "--exit-on-error", "-d", restore_dsn, dump], check=True)
    with psycopg.connect(restore_dsn, autocommit=True) as conn:
        system = conn.execute("SELECT count(DISTINCT system_identifier) FROM chronicle.feed_state").fetchone()[0]
        check("the restore brought the old cluster's feed state next to the new one", system == 2)
        conn.execute("SELECT chronicle.seal()")
        restored = conn.execute("SELECT global_position, event_id::text FROM chronicle.events"
                                " WHERE global_position <= %s ORDER BY 1", [head]).fetchall()
        check("every position survives pg_dump/pg_restore", restored == source,
              f"{len(restored)} vs {len(source)}")
        late_pos = conn.execute("SELECT global_position FROM chronicle.events WHERE event_id = %s", [late]).fetchone()[0]
        check("the event the dump held unsealed is sealed after the old positions", late_pos == head + 1, str(late_pos))
        conn.execute("SELECT chronicle.append_event('dump-new', 'Tick', '{}', stream_type => 'Dump')")
        conn.execute("SELECT chronicle.append_event('dump-0', 'Tick', '{}')")
        check("new appends in the new cluster are sealed (the horizon was re-based)", wait_sealed(conn))
        tail = conn.execute("SELECT global_position, stream_id FROM chronicle.read_all(%s)", [head + 1]).fetchall()
        check("new appends take the next positions", tail == [(head + 2, "dump-new"), (head + 3, "dump-0")], str(tail))
        sub = conn.execute("SELECT last_position, status FROM chronicle.subscriptions WHERE name = 'copied'").fetchone()
        check("subscriptions survive pg_dump/pg_restore", sub == (5, "running"), str(sub))
        polled = conn.execute("SELECT global_position FROM chronicle.poll('copied', 3)").fetchall()
        check("and poll on from their checkpoints", [p for p, in polled] == [6, 7, 8])
        rows = conn.execute("SELECT count(*) FROM chronicle.feed_state").fetchone()[0]
        check("the feed state is one row again", rows == 1)


def main():
    phase, dsn = sys.argv[1], sys.argv[2]
    {
        "random": lambda: phase_random(dsn),
        "groups": lambda: phase_groups(dsn),
        "liveness": lambda: phase_liveness(dsn),
        "stalled": lambda: phase_stalled(dsn, sys.argv[3]),
        "restart-before": lambda: phase_restart_before(dsn),
        "restart-after": lambda: phase_restart_after(dsn),
        "dump-restore": lambda: phase_dump_restore(dsn, sys.argv[3]),
    }[phase]()
    finish()


if __name__ == "__main__":
    main()
