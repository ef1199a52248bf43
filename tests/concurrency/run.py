"""Concurrency test: 8 sessions append to a few hot and many cold streams.

Each session reads a stream's version and appends with that expected version
(single events and batches, a few with expected_version NULL), and sometimes
rolls its transaction back after a successful append. Every outcome is
recorded. Afterwards the test checks, against the database:

  * every acknowledged (committed) event is stored exactly once, in its
    stream, at the version the append returned;
  * every rejected (40001) or rolled-back event is absent;
  * every stream's versions are 1..n without gaps, and its head agrees;
  * nothing else is stored;
  * the global feed holds every stored event once, at positions 1..n.

So it cannot pass by luck: a lost, duplicated or misplaced event fails it.

Usage: python run.py DSN [--sessions 8] [--ops 300] [--seed N]
"""

import argparse
import pathlib
import random
import sys
import threading
import uuid
from collections import defaultdict

import psycopg
from psycopg.types.json import Jsonb

# check() and finish(), shared by the suites: tests/support/checks.py, found
# from this file's place (so that the suite also runs by hand).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "support"))
from checks import check, finish  # noqa: E402

HOT = [f"hot-{i}" for i in range(3)]
COLD = [f"cold-{i}" for i in range(200)]


def worker(dsn, wid, ops, seed, out, errors):
    rng = random.Random(seed * 1000 + wid)
    acked, rejected = [], []
    stats = defaultdict(int)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for op in range(ops):
                stream = rng.choice(HOT) if rng.random() < 0.6 else rng.choice(COLD)
                n = 1 if rng.random() < 0.7 else rng.randint(2, 5)
                ids = [str(uuid.uuid4()) for _ in range(n)]
                any_version = rng.random() < 0.1
                abort = rng.random() < 0.05
                try:
                    with conn.transaction() as tx:
                        cur = conn.cursor()
                        cur.execute("SELECT chronicle.stream_version(%s)", [stream])
                        expected = None if any_version else cur.fetchone()[0]
                        if rng.random() < 0.3:
                            # widen the race window between read and append
                            cur.execute("SELECT pg_sleep(0.001)")
                        if n == 1:
                            cur.execute(
                                "SELECT chronicle.append_event(%s, 'Tick', %s, expected_version => %s,"
                                " event_id => %s, stream_type => 'Load')",
                                [stream, Jsonb({"w": wid, "op": op}), expected, ids[0]],
                            )
                        else:
                            events = [{"event_type": "Tock", "data": {"w": wid, "op": op, "i": i},
                                       "event_id": eid} for i, eid in enumerate(ids)]
                            cur.execute(
                                "SELECT chronicle.append_events(%s, %s, expected_version => %s,"
                                " stream_type => 'Load')",
                                [stream, Jsonb(events), expected],
                            )
                        last = cur.fetchone()[0]
                        if abort:
                            raise psycopg.Rollback(tx)
                    if abort:
                        rejected.extend(ids)
                        stats["rolled_back"] += 1
                    else:
                        acked.extend((eid, stream, last - n + 1 + i) for i, eid in enumerate(ids))
                        stats["acked_appends"] += 1
                except psycopg.errors.SerializationFailure:
                    rejected.extend(ids)
                    stats["conflicts"] += 1
    except Exception as e:  # noqa: BLE001 - reported as a failure below
        errors.append(f"session {wid}: {type(e).__name__}: {e}")
    out[wid] = (acked, rejected, stats)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dsn")
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--ops", type=int, default=300)
    ap.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    a = ap.parse_args()
    print(f"seed {a.seed}, {a.sessions} sessions x {a.ops} appends")

    out, errors = {}, []
    threads = [threading.Thread(target=worker, args=(a.dsn, w, a.ops, a.seed, out, errors))
               for w in range(a.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)

    acked = [x for w in out.values() for x in w[0]]
    rejected = [x for w in out.values() for x in w[1]]
    stats = defaultdict(int)
    for w in out.values():
        for k, v in w[2].items():
            stats[k] += v
    print("outcomes:", dict(stats), f"acknowledged events {len(acked)}, rejected events {len(rejected)}")

    check("no session crashed", not errors and len(out) == a.sessions)
    for e in errors:
        print("  ", e)
    with psycopg.connect(a.dsn, autocommit=True) as conn:
        conn.execute("SELECT chronicle.seal()")
        positions = [p for p, in conn.execute(
            "SELECT global_position FROM chronicle.events ORDER BY global_position NULLS FIRST").fetchall()]
    check("the feed is dense: positions 1..n, one per stored event", positions == list(
        range(1, len(positions) + 1)))
    with psycopg.connect(a.dsn) as conn:
        rows = conn.execute(
            "SELECT event_id::text, stream_id, version FROM chronicle.events").fetchall()
        heads = dict(conn.execute("SELECT stream_id, version FROM chronicle.streams").fetchall())
    stored = defaultdict(list)
    for eid, stream, version in rows:
        stored[eid].append((stream, version))

    check("contention happened (some conflicts)", stats["conflicts"] > 0)
    check("every acknowledged event stored exactly once where acknowledged", all(
        stored.get(eid) == [(stream, version)] for eid, stream, version in acked))
    check("every rejected or rolled-back event absent", all(eid not in stored for eid in rejected))
    check("nothing stored that was not acknowledged", len(rows) == len(acked))
    by_stream = defaultdict(list)
    for _, stream, version in rows:
        by_stream[stream].append(version)
    check("versions gap-free 1..n in every stream", all(
        sorted(v) == list(range(1, len(v) + 1)) for v in by_stream.values()))
    check("stream heads agree with events", heads == {s: len(v) for s, v in by_stream.items()})
    check("hot streams saw many appends", all(heads.get(s, 0) >= 10 for s in HOT))
    finish()


if __name__ == "__main__":
    main()
