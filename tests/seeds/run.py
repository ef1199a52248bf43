"""The five documents Chronicle replaces, each re-enacted through it.

    python tests/seeds/run.py DSN

DSN is a libpq connection string of a cluster with the extension installed,
without a dbname ("host=/var/tmp/chronicle-test port=54339 user=postgres").
Each scenario runs in database chronicle_seeds, created again with the
extension before it, in document order:

  000, 001  tests/seeds/order_pipeline.py   the order pipeline's async EventStore over
                                            an `events` table, its DomainEvent classes
                                            (tests/seeds/domain.py), execution ids
  002       tests/seeds/order_aggregate.py  the psycopg2 EventStore and the Order
                                            aggregate: examples 1-4, total $6.00
  003       tests/seeds/cqrs_store.py       the CQRS store: uuid ids, batches, stream_all,
                                            checkpoints, snapshots, monitoring queries
  004       tests/seeds/jsonl_store.py      the JSON-lines file store, imported; replay
                                            and projections compared

Each scenario ports its document's store onto Chronicle's SQL functions,
keeping the document's method names, and checks the document's own expected
outputs. One line per check ("ok   ..." / "FAIL ..."), then
"RESULT passed=N failed=M"; exit status 1 if anything failed. A scenario
that raises counts as a failed check and the others still run.
"""

import sys
import traceback

import common

import cqrs_store  # noqa: E402
import jsonl_store  # noqa: E402
import order_aggregate  # noqa: E402
import order_pipeline  # noqa: E402


def main():
    common.set_dsn(sys.argv[1])
    for name, scenario in [("000/001 order pipeline", order_pipeline.run), ("002 Order aggregate", order_aggregate.run),
                           ("003 CQRS store", cqrs_store.run), ("004 JSON-lines store", jsonl_store.run)]:
        try:
            common.fresh_database()
            scenario()
        except Exception:  # noqa: BLE001 - a broken scenario is a failed check, not the end of the suite
            common.check(f"{name}: runs to the end", False, traceback.format_exc())
    common.finish()


if __name__ == "__main__":
    main()
