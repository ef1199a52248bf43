"""Feed benchmarks (run by scripts/bench.sh).

  follow DSN SECONDS   follows the feed through read_all while pgbench
                       appends events carrying their append time ({"t": ...});
                       prints the latency from append to delivery (p50/p99).
  follow-raw DSN SECONDS
                       the baseline's equivalent follower: the same loop over
                       the raw table, by its bigserial position (which, unlike
                       read_all, can skip an event that commits late).
  scan DSN             read_all throughput (1,000 events per call) over the
                       whole feed vs a raw indexed scan of the same rows in a
                       plain table keyed by position; prints events/s, ratio.
"""

import statistics
import sys
import time
from datetime import datetime, timezone

import psycopg


FEEDS = {
    "follow": ("SELECT chronicle.feed_head()",
               "SELECT global_position, data->>'t' FROM chronicle.read_all(%s, 1000)",
               "append to read_all delivery"),
    "follow-raw": ("SELECT coalesce(max(global_position), 0) FROM bench_raw",
                   "SELECT global_position, data->>'t' FROM bench_raw WHERE global_position > %s"
                   " ORDER BY global_position LIMIT 1000",
                   "raw INSERT to a raw follower's delivery"),
}


def follow(dsn, seconds, feed="follow"):
    head, page, what = FEEDS[feed]
    lat = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        after = conn.execute(head).fetchone()[0]
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rows = conn.execute(page, [after]).fetchall()
            now = datetime.now(timezone.utc)
            for pos, t in rows:
                if t is not None:
                    lat.append((now - datetime.fromisoformat(t)).total_seconds() * 1000)
                after = pos
            if not rows:
                time.sleep(0.001)
    lat.sort()
    if not lat:
        print("feed latency: no events seen")
        return
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]  # noqa: E731
    print(f"feed latency from {what} under load: p50 {p(0.5):.1f} ms, "
          f"p99 {p(0.99):.1f} ms, max {lat[-1]:.1f} ms ({len(lat)} events)")


def scan(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT chronicle.seal(1000000000)")
        conn.execute("DROP TABLE IF EXISTS feed_raw")
        conn.execute("CREATE TABLE feed_raw AS SELECT * FROM chronicle.events ORDER BY global_position")
        conn.execute("ALTER TABLE feed_raw ADD PRIMARY KEY (global_position)")
        conn.execute("VACUUM ANALYZE feed_raw")
        conn.execute("VACUUM ANALYZE chronicle.feed")
        conn.execute("VACUUM ANALYZE chronicle.event_log")
        total = conn.execute("SELECT count(*) FROM feed_raw").fetchone()[0]

        def run(sql):
            start, after, n = time.perf_counter(), 0, 0
            while True:
                rows = conn.execute(sql, [after]).fetchall()
                if not rows:
                    break
                n += len(rows)
                after = rows[-1][0]
            assert n == total, (n, total)
            return n / (time.perf_counter() - start)

        raw_sql = "SELECT * FROM feed_raw WHERE global_position > %s ORDER BY global_position LIMIT 1000"
        feed_sql = "SELECT * FROM chronicle.read_all(%s, 1000)"
        raw, feed = [], []
        for _ in range(2):  # alternate: the machine's speed drifts
            raw.append(run(raw_sql))
            feed.append(run(feed_sql))
    r, f = statistics.mean(raw), statistics.mean(feed)
    print(f"read_all throughput over {total} events, 1,000 per call: raw indexed scan {r:,.0f} events/s, "
          f"read_all {f:,.0f} events/s, ratio {f / r:.2f}")


if __name__ == "__main__":
    if sys.argv[1] in FEEDS:
        follow(sys.argv[2], float(sys.argv[3]), sys.argv[1])
    else:
        scan(sys.argv[2])
