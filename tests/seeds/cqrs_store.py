"""Seed document 003: a CQRS event store (uuid aggregate ids, batch appends
with optimistic concurrency, stream_all for projections, projection
checkpoints, snapshots with a threshold, and three monitoring queries).

    PostgresEventStore.append(aggregate_id: UUID, events, expected_version)
                                      -> append_events(aggregate_id, events, expected_version, stream_type)
    get_events(aggregate_id, after_version)
                                      -> read_stream(aggregate_id, from_version => after_version + 1)
    stream_all(after_sequence, batch_size)
                                      -> read_all(after_position, max_count)
    projection_checkpoints            -> subscriptions (create_subscription, poll, ack, ...)
    snapshots, snapshot threshold     -> chronicle.snapshots, chronicle.snapshot_every
    the three monitoring queries      -> subscription_lag, daily_activity, stream_activity

Each monitoring view's answer is compared with the document's query run
over the same events (chronicle.events standing in for its event_store).
"""

import uuid
from decimal import Decimal

import psycopg

from common import check, connect, jsonb, seal


class ConcurrencyError(Exception):
    pass


class PostgresEventStore:
    def __init__(self, conn):
        self.conn = conn

    def append(self, aggregate_id, events, expected_version, aggregate_type):
        batch = [{"event_id": e["event_id"], "event_type": e["event_type"], "data": e["data"],
                  "metadata": e.get("metadata", {})} for e in events]
        try:
            # aggregate_id is a uuid.UUID: psycopg sends it as uuid.
            self.conn.execute("SELECT chronicle.append_events(%s, %s, %s, %s)",
                              [aggregate_id, jsonb(batch), expected_version, aggregate_type])
        except psycopg.errors.SerializationFailure as e:
            raise ConcurrencyError(e.diag.message_detail) from e

    def get_events(self, aggregate_id, after_version=0):
        return self.conn.execute(
            "SELECT version, event_type, data FROM chronicle.read_stream(%s, from_version => %s)",
            [aggregate_id, after_version + 1]).fetchall()

    def stream_all(self, after_sequence=0, batch_size=100):
        current = after_sequence
        while True:
            rows = self.conn.execute(
                "SELECT global_position, stream_id, version, event_type FROM chronicle.read_all(%s, %s)",
                [current, batch_size]).fetchall()
            if not rows:
                break
            for row in rows:
                yield row
                current = row[0]


def event(event_type, **data):
    return {"event_id": str(uuid.uuid4()), "event_type": event_type, "data": data}


def store_and_stream(conn):
    store = PostgresEventStore(conn)
    orders = [uuid.uuid4() for _ in range(3)]
    store.append(orders[0], [event("OrderPlaced", total=Decimal("19.99")), event("OrderPaid")], 0, "Order")
    store.append(orders[1], [event("OrderPlaced", total=Decimal("5.00"))], 0, "Order")
    store.append(orders[0], [event("OrderShipped", carrier="DHL")], 2, "Order")
    store.append(orders[2], [event("OrderPlaced", total=Decimal("7.50")), event("OrderCancelled")], 0, "Order")
    check("003: a batch appends with expected_version = the current version; versions follow",
          [r[0] for r in store.get_events(orders[0])] == [1, 2, 3])
    check("003: get_events(after_version=1) reads versions 2 and 3",
          [(r[0], r[1]) for r in store.get_events(orders[0], after_version=1)] == [(2, "OrderPaid"), (3, "OrderShipped")])
    check("003: amounts are exact", store.get_events(orders[1])[0][2] == {"total": Decimal("5.00")})
    try:
        store.append(orders[1], [event("OrderPaid")], 0, "Order")
        check("003: a stale expected_version raises ConcurrencyError", False, "no error")
    except ConcurrencyError as e:
        check("003: a stale expected_version raises ConcurrencyError", "actual version 1" in str(e), str(e))
    check("003: the rejected batch wrote nothing", len(store.get_events(orders[1])) == 1)
    check("003: the uuid aggregate id is the stream id (lower-case text)",
          conn.execute("SELECT stream_type FROM chronicle.streams WHERE stream_id = %s",
                       [str(orders[2])]).fetchone() == ("Order",))

    seal(conn)
    streamed = list(store.stream_all(0, batch_size=2))
    check("003: stream_all pages through every event, positions 1..6 dense, in commit order",
          [r[0] for r in streamed] == list(range(1, 7)), str(streamed))
    check("003: stream_all's order: the first aggregate's two events, then the second's, ...",
          [(r[1], r[2]) for r in streamed]
          == [(str(orders[0]), 1), (str(orders[0]), 2), (str(orders[1]), 1), (str(orders[0]), 3),
              (str(orders[2]), 1), (str(orders[2]), 2)], str(streamed))
    check("003: stream_all(after_sequence=4) resumes after position 4",
          [r[0] for r in store.stream_all(4, 100)] == [5, 6])
    return orders


def projections(conn):
    """projection_checkpoints as subscriptions."""
    conn.execute("SELECT chronicle.create_subscription('order_summary', stream_type => 'Order')")
    conn.execute("SELECT chronicle.create_subscription('shipping', event_types => ARRAY['OrderShipped'])")
    summary = {}
    processed = 0
    while True:
        rows = conn.execute("SELECT global_position, stream_id, event_type FROM chronicle.poll('order_summary', 4)").fetchall()
        if not rows:
            break
        for position, stream_id, event_type in rows:
            summary.setdefault(stream_id, []).append(event_type)
            processed += 1
        conn.execute("SELECT chronicle.ack('order_summary', %s)", [rows[-1][0]])
    check("003: the projection processed the six events, a checkpoint after each batch", processed == 6, str(processed))
    sub = conn.execute("SELECT last_position, events_processed, status FROM chronicle.subscriptions "
                       "WHERE name = 'order_summary'").fetchone()
    check("003: its checkpoint: last position 6, 6 events processed, running",
          sub == (6, 6, "running"), str(sub))
    status = lambda: conn.execute(  # noqa: E731
        "SELECT status, error_message FROM chronicle.subscriptions WHERE name = 'shipping'").fetchone()
    conn.execute("SELECT chronicle.pause_subscription('shipping')")
    paused = status()
    conn.execute("SELECT chronicle.resume_subscription('shipping')")
    conn.execute("SELECT chronicle.fail_subscription('shipping', 'carrier API down')")
    failed = status()
    conn.execute("SELECT chronicle.resume_subscription('shipping')")
    check("003: status (running, paused, failed) and error_message as the checkpoint table keeps them",
          (paused, failed, status()[0]) == (("paused", None), ("failed", "carrier API down"), "running"),
          f"{paused} {failed} {status()}")


def snapshots(conn):
    """The snapshot threshold: chronicle.snapshot_every."""
    conn.execute("SELECT chronicle.define_reducer('Meter', %s)",
                 [jsonb({"on": {"Read": [{"op": "increment", "path": "/total", "from": "/data/kwh"}]}})])
    meter = uuid.uuid4()
    readings = [Decimal(i) / 4 for i in range(1, 121)]
    conn.execute("SELECT chronicle.append_events(%s, %s, 0, 'Meter')",
                 [meter, jsonb([{"event_type": "Read", "data": {"kwh": r}} for r in readings])])
    conn.execute("SET chronicle.snapshot_every = 50")
    head = conn.execute("SELECT chronicle.state_at(%s)", [meter]).fetchone()[0]
    middle = conn.execute("SELECT chronicle.state_at(%s, 60)", [meter]).fetchone()[0]
    versions = [r[0] for r in conn.execute("SELECT version FROM chronicle.snapshots WHERE stream_id = %s ORDER BY 1",
                                           [str(meter)])]
    check("003: with a threshold of 50, replays leave snapshots at versions 50 and 100", versions == [50, 100],
          str(versions))
    check("003: the states equal the sum of the readings (exact)",
          head == {"total": sum(readings)} and middle == {"total": sum(readings[:60])}, f"{head} {middle}")
    again = conn.execute("SELECT chronicle.state_at(%s)", [meter]).fetchone()[0]
    conn.execute("DELETE FROM chronicle.snapshots")
    without = conn.execute("SELECT chronicle.state_at(%s)", [meter]).fetchone()[0]
    check("003: from a snapshot or from scratch, the same state", again == without == head, f"{again} {without}")
    conn.execute("RESET chronicle.snapshot_every")


# The document's monitoring queries, over chronicle.events and the
# subscriptions table in place of event_store and projection_checkpoints.
DOC_LAG = """
SELECT p.name, (SELECT MAX(global_position) FROM chronicle.events) - p.last_position AS lag,
       p.last_processed_at, p.status
  FROM chronicle.subscriptions p ORDER BY 1"""
DOC_PER_DAY = """
SELECT DATE(recorded_at AT TIME ZONE 'UTC') AS day, COUNT(*) AS event_count, COUNT(DISTINCT stream_id) AS unique_aggregates
  FROM chronicle.events
 WHERE recorded_at > NOW() - INTERVAL '7 days'
 GROUP BY 1 ORDER BY day DESC"""
DOC_MOST_ACTIVE = """
SELECT stream_id, stream_type, COUNT(*) AS event_count
  FROM chronicle.events GROUP BY stream_id, stream_type ORDER BY event_count DESC, stream_id LIMIT 10"""


def monitoring(conn):
    seal(conn)
    lag = conn.execute("SELECT name, lag, last_processed_at, status FROM chronicle.subscription_lag ORDER BY 1").fetchall()
    check("003: projection lag: subscription_lag answers the document's query", lag == conn.execute(DOC_LAG).fetchall(),
          f"{lag}\n{conn.execute(DOC_LAG).fetchall()}")
    check("003: projection lag: order_summary is 120 positions behind (the meter's events came after its checkpoint)",
          dict((r[0], r[1]) for r in lag)["order_summary"] == 120, str(lag))
    per_day = conn.execute("SELECT day, events, streams FROM chronicle.daily_activity "
                           "WHERE day > (now() - interval '7 days')::date ORDER BY day DESC").fetchall()
    check("003: events per day: daily_activity answers the document's query",
          per_day == conn.execute(DOC_PER_DAY).fetchall(), f"{per_day}\n{conn.execute(DOC_PER_DAY).fetchall()}")
    active = conn.execute("SELECT stream_id, stream_type, events FROM chronicle.stream_activity "
                          "ORDER BY events DESC, stream_id LIMIT 10").fetchall()
    check("003: most active aggregates: stream_activity answers the document's query",
          active == conn.execute(DOC_MOST_ACTIVE).fetchall(), f"{active}\n{conn.execute(DOC_MOST_ACTIVE).fetchall()}")
    check("003: the most active aggregate is the meter, with 120 events", active[0][1:] == ("Meter", 120), str(active[0]))


def run():
    with connect() as conn:
        store_and_stream(conn)
        projections(conn)
        snapshots(conn)
        monitoring(conn)
