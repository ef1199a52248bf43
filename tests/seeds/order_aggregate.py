"""Seed document 002: a psycopg2 EventStore with an Order aggregate whose
events carry their own version (1, 2, 3, ...), examples 1-4 and their
printed output, `total()` = sum of quantity x price = $6.00.

The EventStore keeps the document's methods, ported onto Chronicle:

    append(event)                      -> append_event(..., version => event.version)
    load_events(aggregate_type, id)    -> read_stream(id) of a stream of that type
    get_latest_version(type, id)       -> stream_version(id)
    event_exists(type, id)             -> stream_version(id) > 0

and Order._apply_event / total() become a reducer: state_at computes the
same Order, its total derived in exact decimals.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Dict

import psycopg

from common import check, connect, jsonb


@dataclass
class Event:
    event_id: str
    aggregate_type: str
    aggregate_id: str
    event_type: str
    version: int
    data: Dict[str, Any]
    timestamp: datetime

    @staticmethod
    def create(aggregate_type, aggregate_id, event_type, version, data):
        return Event(event_id=str(uuid.uuid4()), aggregate_type=aggregate_type, aggregate_id=aggregate_id,
                     event_type=event_type, version=version, data=data, timestamp=datetime.utcnow())


def order_created(order_id, customer_id, version=1):
    return Event.create("Order", order_id, "OrderCreated", version, {"customer_id": customer_id, "status": "created"})


def item_added(order_id, item_id, quantity, price, version):
    return Event.create("Order", order_id, "ItemAdded", version,
                        {"item_id": item_id, "quantity": quantity, "price": price})


def order_paid(order_id, payment_method, version):
    return Event.create("Order", order_id, "OrderPaid", version,
                        {"payment_method": payment_method, "status": "paid"})


class EventStore:
    def __init__(self, conn):
        self.conn = conn

    def append(self, event):
        try:
            self.conn.execute(
                "SELECT chronicle.append_event(%s, %s, %s, event_id => %s, occurred_at => %s, "
                "stream_type => CASE WHEN %s = 1 THEN %s END, version => %s)",
                [event.aggregate_id, event.event_type, jsonb(event.data), event.event_id,
                 event.timestamp.replace(tzinfo=timezone.utc), event.version, event.aggregate_type, event.version])
            return True
        except psycopg.errors.SerializationFailure as e:
            raise Exception(f"Version conflict for {event.aggregate_id} version {event.version}") from e

    def load_events(self, aggregate_type, aggregate_id):
        rows = self.conn.execute(
            "SELECT event_id::text, stream_type, stream_id, event_type, version, data, occurred_at "
            "FROM chronicle.read_stream(%s) WHERE stream_type = %s", [aggregate_id, aggregate_type]).fetchall()
        return [Event(*row) for row in rows]

    def get_latest_version(self, aggregate_type, aggregate_id):
        return self.conn.execute("SELECT chronicle.stream_version(%s)", [aggregate_id]).fetchone()[0]

    def event_exists(self, aggregate_type, aggregate_id):
        return self.get_latest_version(aggregate_type, aggregate_id) > 0


# The Order's _apply_event and total(), as a reducer.
ORDER_REDUCER = {
    "initial": {"items": {}, "status": "not_created"},
    "on": {
        "OrderCreated": [{"op": "set", "path": "/customer_id", "from": "/data/customer_id"},
                         {"op": "set", "path": "/status", "from": "/data/status"}],
        "ItemAdded": [{"op": "set", "path": "/items/{item_id}",
                       "from": {"quantity": "/data/quantity", "price": "/data/price"}}],
        "ItemRemoved": [{"op": "remove", "path": "/items/{item_id}"}],
        "OrderPaid": [{"op": "set", "path": "/status", "from": "/data/status"}],
        "OrderCancelled": [{"op": "set", "path": "/status", "from": "/data/status"}],
    },
    "derive": [{"path": "/total", "value": {"sum": "/items", "of": {"multiply": ["/quantity", "/price"]}}}],
}


def order_repr(conn, order_id):
    """The document's Order.__repr__, from Chronicle's state of the order."""
    state = conn.execute("SELECT chronicle.state_at(%s)", [order_id]).fetchone()[0]
    version = conn.execute("SELECT chronicle.stream_version(%s)", [order_id]).fetchone()[0]
    return (f"Order(id={order_id}, customer={state.get('customer_id')}, items={len(state['items'])}, "
            f"total=${state['total']:.2f}, status={state['status']}, version={version})")


def run():
    with connect() as conn:
        conn.execute("SELECT chronicle.define_reducer('Order', %s)", [jsonb(ORDER_REDUCER)])
        store = EventStore(conn)
        # Example 1: create the order.
        store.append(order_created("order-001", "customer-123", version=1))
        check("002: example 1 loads Order(... items=0, total=$0.00, status=created, version=1)",
              order_repr(conn, "order-001")
              == "Order(id=order-001, customer=customer-123, items=0, total=$0.00, status=created, version=1)",
              order_repr(conn, "order-001"))
        # Example 2: add items (prices as the document's Python floats: 1.5 and 0.75).
        store.append(item_added("order-001", "apple", 3, 1.50, version=2))
        store.append(item_added("order-001", "banana", 2, 0.75, version=3))
        check("002: example 2 loads Order(... items=2, total=$6.00, status=created, version=3)",
              order_repr(conn, "order-001")
              == "Order(id=order-001, customer=customer-123, items=2, total=$6.00, status=created, version=3)",
              order_repr(conn, "order-001"))
        # Example 3: pay.
        store.append(order_paid("order-001", "credit_card", version=4))
        final = order_repr(conn, "order-001")
        check("002: example 3's final state is Order(... items=2, total=$6.00, status=paid, version=4)",
              final == "Order(id=order-001, customer=customer-123, items=2, total=$6.00, status=paid, version=4)",
              final)
        # Exact decimals when the prices are written as decimals.
        store.append(order_created("order-002", "customer-7"))
        store.append(item_added("order-002", "apple", 3, Decimal("1.50"), version=2))
        store.append(item_added("order-002", "banana", 2, Decimal("0.75"), version=3))
        total = conn.execute("SELECT chronicle.state_at('order-002')->'total'").fetchone()[0]
        text = conn.execute("SELECT (chronicle.state_at('order-002')->'total')::text").fetchone()[0]
        check("002: total() is exactly 6.00 (3 x 1.50 + 2 x 0.75), as the database prints it",
              total == Decimal("6.00") and text == "6.00", f"{total!r} {text}")
        # Example 4: the history table.
        events = store.load_events("Order", "order-001")
        lines = [f"{'Version':<10} {'Event Type':<20} {'Data'}", "-" * 70] + [
            f"{e.version:<10} {e.event_type:<20} {e.data}" for e in events]
        check("002: example 4's history: versions 1-4, OrderCreated, ItemAdded, ItemAdded, OrderPaid",
              [(e.version, e.event_type) for e in events]
              == [(1, "OrderCreated"), (2, "ItemAdded"), (3, "ItemAdded"), (4, "OrderPaid")], "\n".join(lines))
        # (jsonb keeps an object's members in its own order, shortest key
        # first: the printed dict lists status before customer_id.)
        check("002: the history's data, as appended",
              [e.data for e in events] == [{"customer_id": "customer-123", "status": "created"},
                                           {"item_id": "apple", "quantity": 3, "price": Decimal("1.5")},
                                           {"item_id": "banana", "quantity": 2, "price": Decimal("0.75")},
                                           {"payment_method": "credit_card", "status": "paid"}], "\n".join(lines))
        check("002: get_latest_version is 4; event_exists; a missing order does not exist",
              store.get_latest_version("Order", "order-001") == 4 and store.event_exists("Order", "order-001")
              and not store.event_exists("Order", "order-404"))
        check("002: load_events of another aggregate type finds nothing", store.load_events("Invoice", "order-001") == [])
        # Running examples 1-3 again (the document's note): duplicate versions.
        for again in (order_created("order-001", "customer-123", 1), item_added("order-001", "apple", 3, 1.50, 2)):
            try:
                store.append(again)
                check(f"002: appending version {again.version} again is a version conflict", False, "no error")
            except Exception as e:  # noqa: BLE001 - the document raises a bare Exception
                check(f"002: appending version {again.version} again is a version conflict",
                      str(e) == f"Version conflict for order-001 version {again.version}", str(e))
        check("002: the conflicts wrote nothing", store.get_latest_version("Order", "order-001") == 4)
