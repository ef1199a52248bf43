"""An eventsourcing application writing from several threads, on Chronicle
(chronicle_eventstore.eventsourcing) and on eventsourcing's own PostgreSQL
persistence module (eventsourcing.postgres), in the same server and the same
run, alternating: events per second and the ratio.

Each transaction saves a new aggregate with N events (1: just created; 10:
created and changed 9 times), one insert_events call, as an application's
command does; nothing is read, so the figure is the store's write path.

usage: eventsourcing_app.py HOST PORT SECONDS THREADS
"""

from __future__ import annotations

import sys
import threading
import time

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

HOST, PORT, SECONDS, THREADS = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
ADMIN = f"host={HOST} port={PORT} user=postgres"


class Counter(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by


class Counters(Application):
    def create(self, events: int) -> None:
        counter = Counter(name="bench")
        for i in range(events - 1):
            counter.increment(by=i)
        self.save(counter)


def fresh(dbname: str, chronicle: bool) -> None:
    with psycopg.connect(f"{ADMIN} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {dbname}")
    if chronicle:
        with psycopg.connect(f"{ADMIN} dbname={dbname}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION chronicle")


ENVS = {
    "chronicle": {
        "PERSISTENCE_MODULE": "chronicle_eventstore.eventsourcing",
        "CHRONICLE_DSN": f"{ADMIN} dbname=bench_es_chronicle",
        "CHRONICLE_POOL_SIZE": str(THREADS),
    },
    "postgres": {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "bench_es_postgres",
        "POSTGRES_HOST": HOST,
        "POSTGRES_PORT": PORT,
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "",
        "POSTGRES_POOL_SIZE": str(THREADS),
    },
}


def run(store: str, events: int) -> float:
    """Events per second of THREADS threads for SECONDS."""
    app = Counters(env=ENVS[store])
    for _ in range(20):  # warm up the pool and the plans
        app.create(events)
    done = [0] * THREADS
    stop = time.monotonic() + SECONDS

    def work(k: int) -> None:
        while time.monotonic() < stop:
            app.create(events)
            done[k] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    app.close()
    return sum(done) * events / elapsed


def main() -> None:
    fresh("bench_es_chronicle", True)
    fresh("bench_es_postgres", False)
    print(f"eventsourcing application, {THREADS} threads, {SECONDS:.0f} s per run, runs alternate")
    print(f"{'events per transaction':>24} {'Chronicle events/s':>20} {'eventsourcing.postgres events/s':>33} {'ratio':>7}")
    for events in (1, 10):
        rates: dict[str, list[float]] = {"chronicle": [], "postgres": []}
        for _ in range(2):
            for store in ("postgres", "chronicle"):
                rates[store].append(run(store, events))
        c = sum(rates["chronicle"]) / 2
        p = sum(rates["postgres"]) / 2
        detail = " / ".join(f"{a:,.0f}:{b:,.0f}" for a, b in zip(rates["chronicle"], rates["postgres"]))
        print(f"{events:>24} {c:>20,.0f} {p:>33,.0f} {c / p:>7.2f}   (runs {detail})")


if __name__ == "__main__":
    if len(sys.argv) > 5:  # one store, one size: for profiling (STORE EVENTS)
        fresh(ENVS[sys.argv[5]].get("POSTGRES_DBNAME", "bench_es_chronicle"), sys.argv[5] == "chronicle")
        print(f"{run(sys.argv[5], int(sys.argv[6])):,.0f} events/s")
    else:
        main()
