"""Crash safety: kill the postmaster with SIGKILL in the middle of an append
load, restart it, and check that nothing acknowledged was lost.

Each round: 8 sessions append (single events and batches, to hot and cold
streams, synchronous_commit = on, with expected versions; two of them write
to another table first, so that their transaction holds an id from before
events sealed meanwhile when it appends) while a consumer
polls and acks a subscription; after a random delay the postmaster is
killed with SIGKILL (its backends die with it), the server is started again
(crash recovery), and the test checks, against the database:

  * every acknowledged append is stored exactly once, in its stream, at the
    version the append returned;
  * every rejected (40001) append is absent; an append whose answer was lost
    in the crash is stored exactly once or not at all;
  * every stream's versions are 1..n without gaps, and its head agrees;
  * the global feed becomes dense again: positions 1..n, one per event;
  * the subscription resumes at or after its last acknowledged checkpoint
    and delivers the events after it.

Rounds run one after the other on the same database, with different timings.

Usage: python run.py DSN PGDATA RESTART_COMMAND [--rounds 3] [--seed N]
"""

import argparse
import os
import pathlib
import random
import signal
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
from checks import check, counts, finish  # noqa: E402

HOT = [f"hot-{i}" for i in range(3)]
COLD = [f"cold-{i}" for i in range(100)]


class Outcomes:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = []        # (event_id, stream, version)
        self.rejected = []     # event ids
        self.unknown = []      # event ids whose append's answer was lost
        self.checkpoint = 0    # the subscription's last acknowledged position


def connect(dsn):
    """A session, or None when the server is already gone (killed)."""
    try:
        return psycopg.connect(dsn, autocommit=True)
    except psycopg.OperationalError:
        return None


def writer(dsn, wid, seed, stop, out):
    rng = random.Random(seed * 1000 + wid)
    conn = connect(dsn)
    if conn is None:
        return
    with conn:
        while not stop.is_set():
            stream = rng.choice(HOT) if rng.random() < 0.5 else rng.choice(COLD)
            n = 1 if rng.random() < 0.7 else rng.randint(2, 20)
            ids = [str(uuid.uuid4()) for _ in range(n)]
            try:
                with conn.transaction():
                    cur = conn.cursor()
                    if wid % 4 == 3:
                        cur.execute("INSERT INTO crash_side VALUES (%s)", [wid])
                        time.sleep(rng.random() * 0.02)
                    expected = cur.execute("SELECT chronicle.stream_version(%s)", [stream]).fetchone()[0]
                    events = [{"event_type": "Tick", "data": {"w": wid, "i": i}, "event_id": eid}
                              for i, eid in enumerate(ids)]
                    last = cur.execute(
                        "SELECT chronicle.append_events(%s, %s, expected_version => %s, stream_type => 'Load')",
                        [stream, Jsonb(events), expected]).fetchone()[0]
                with out.lock:
                    out.acked.extend((eid, stream, last - n + 1 + i) for i, eid in enumerate(ids))
            except psycopg.errors.SerializationFailure:
                with out.lock:
                    out.rejected.extend(ids)
            except psycopg.Error:
                # The server went away: the commit may or may not have happened.
                with out.lock:
                    out.unknown.extend(ids)
                return


def consumer(dsn, stop, out):
    conn = connect(dsn)
    if conn is None:
        return
    with conn:
        while not stop.is_set():
            try:
                rows = conn.execute("SELECT global_position FROM chronicle.poll('projection', 200)").fetchall()
                if rows:
                    acked = conn.execute("SELECT chronicle.ack('projection', %s)", [rows[-1][0]]).fetchone()[0]
                    with out.lock:
                        out.checkpoint = max(out.checkpoint, acked)
                else:
                    time.sleep(0.01)
            except psycopg.Error:
                return


def postmaster_pid(pgdata):
    with open(os.path.join(pgdata, "postmaster.pid")) as f:
        return int(f.readline())


def wait_dead(pid, pgdata):
    """Waits until the killed postmaster is gone. If it stays a zombie (its
    parent, the machine's init, has not reaped it yet), its pid file is
    stale: remove it, or the restart would take the zombie for a running
    server."""
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return
        if state == "Z":
            os.remove(os.path.join(pgdata, "postmaster.pid"))
            return
        time.sleep(0.05)
    raise RuntimeError(f"the postmaster {pid} did not die")


def wait_for_server(dsn, seconds=60):
    deadline = time.time() + seconds
    while True:
        try:
            with psycopg.connect(dsn, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def round_(dsn, pgdata, restart, seed, out, rnd):
    rng = random.Random(seed + rnd)
    delay = rng.uniform(0.8, 3.0)
    stop = threading.Event()
    threads = [threading.Thread(target=writer, args=(dsn, w, seed + rnd * 97, stop, out)) for w in range(8)]
    threads.append(threading.Thread(target=consumer, args=(dsn, stop, out)))
    for t in threads:
        t.start()
    time.sleep(delay)
    with out.lock:
        acked_before = len(out.acked)
        checkpoint_before = out.checkpoint
    pid = postmaster_pid(pgdata)
    os.kill(pid, signal.SIGKILL)
    wait_dead(pid, pgdata)
    for t in threads:
        t.join(timeout=60)
    stop.set()
    print(f"round {rnd}: killed the postmaster after {delay:.2f} s "
          f"({acked_before}+ appended events acknowledged, checkpoint {checkpoint_before})")
    # The killed postmaster's backends exit once they notice; the data
    # directory is free when its shared memory is released.
    for attempt in range(30):
        # (it fails while the old backends still hold the shared memory)
        if subprocess.run(restart, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
            break
        time.sleep(1)
    else:
        raise RuntimeError(f"the server did not start again: {restart}")
    wait_for_server(dsn)


def check_round(dsn, out, rnd):
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT event_id::text, stream_id, version FROM chronicle.event_log").fetchall()
        heads = dict(conn.execute("SELECT stream_id, version FROM chronicle.streams").fetchall())
        # A follower reading the feed starts the sealer again (it starts on
        # demand); wait until it has sealed everything.
        deadline = time.time() + 60
        while time.time() < deadline:
            conn.execute("SELECT count(*) FROM chronicle.read_all(chronicle.feed_head(), 1)")
            if conn.execute("SELECT chronicle.feed_head()").fetchone()[0] >= len(rows):
                break
            time.sleep(0.1)
        positions = [p for p, in conn.execute(
            "SELECT global_position FROM chronicle.events ORDER BY global_position NULLS FIRST").fetchall()]
        sub = conn.execute("SELECT last_position FROM chronicle.subscription_lag WHERE name = 'projection'").fetchone()[0]
        resumed = conn.execute("SELECT global_position FROM chronicle.poll('projection', 50)").fetchall()
    stored = defaultdict(list)
    for eid, stream, version in rows:
        stored[eid].append((stream, version))
    by_stream = defaultdict(list)
    for _, stream, version in rows:
        by_stream[stream].append(version)
    acked_ids = {eid for eid, _, _ in out.acked}
    tag = f"round {rnd}: "
    check(tag + "every acknowledged append stored exactly once where acknowledged", all(
        stored.get(eid) == [(stream, version)] for eid, stream, version in out.acked))
    check(tag + "every rejected append absent", all(eid not in stored for eid in out.rejected))
    check(tag + "appends whose answer was lost: stored at most once", all(
        len(stored.get(eid, [])) <= 1 for eid in out.unknown))
    known = acked_ids | set(out.unknown)
    check(tag + "nothing stored that was not appended", all(eid in known for eid in stored))
    check(tag + "versions gap-free 1..n in every stream, heads agree", all(
        sorted(v) == list(range(1, len(v) + 1)) for v in by_stream.values()) and heads == {
        s: len(v) for s, v in by_stream.items()})
    check(tag + "the feed is dense again: positions 1..n, one per event", positions == list(
        range(1, len(rows) + 1)))
    check(tag + "the subscription resumes at or after its last acknowledged checkpoint", (
        sub >= out.checkpoint and all(p > sub for p, in resumed)
        and [p for p, in resumed] == list(range(sub + 1, sub + 1 + len(resumed)))))
    print(f"round {rnd}: {len(rows)} events stored, {len(out.acked)} acknowledged, "
          f"{len(out.unknown)} lost answers ({sum(eid in stored for eid in out.unknown)} of them committed), "
          f"subscription at {sub} (last ack {out.checkpoint})")
    # The events of lost answers that committed count as known from now on.
    out.acked.extend((eid, *stored[eid][0]) for eid in out.unknown if eid in stored)
    out.rejected.extend(eid for eid in out.unknown if eid not in stored)
    out.unknown.clear()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dsn")
    ap.add_argument("pgdata")
    ap.add_argument("restart")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    a = ap.parse_args()
    print(f"seed {a.seed}, {a.rounds} rounds")
    with psycopg.connect(a.dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute("ALTER DATABASE " + conn.info.dbname + " SET synchronous_commit = on")
        conn.execute("SELECT chronicle.create_subscription('projection')")
        conn.execute("CREATE TABLE crash_side (w int)")
    out = Outcomes()
    for rnd in range(1, a.rounds + 1):
        round_(a.dsn, a.pgdata, a.restart, a.seed, out, rnd)
        check_round(a.dsn, out, rnd)
    print(f"crashes survived: {a.rounds}; acknowledged events: {len(out.acked)}; checks failed: {counts()[1]}")
    finish()


if __name__ == "__main__":
    main()
