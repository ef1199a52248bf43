"""The Order aggregate of the seeds, on Chronicle: create an order, add two
items, pay; then rebuild it from its events (total $6.00, exactly).

    python examples/order.py "host=... dbname=... user=..."
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from chronicle_eventstore import EventStore, NewEvent, RecordedEvent, retry_on_conflict


@dataclass
class Order:
    """State folded from an order's events."""

    order_id: str
    version: int = 0
    customer_id: str = ""
    status: str = "new"
    items: dict[str, tuple[int, Decimal]] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum((q * p for q, p in self.items.values()), Decimal("0.00"))

    def apply(self, event: RecordedEvent) -> None:
        d = event.data
        if event.event_type == "OrderCreated":
            self.customer_id, self.status = d["customer_id"], "created"
        elif event.event_type == "ItemAdded":
            self.items[d["item_id"]] = (d["quantity"], d["price"])
        elif event.event_type == "OrderPaid":
            self.status = "paid"
        self.version = event.version


def load(store: EventStore, order_id: str) -> Order:
    order = Order(order_id)
    for event in store.read_stream(order_id):
        order.apply(event)
    return order


def create(store: EventStore, order_id: str, customer_id: str) -> None:
    store.append(order_id, [NewEvent("OrderCreated", {"customer_id": customer_id})],
                 expected_version=0, stream_type="Order")


@retry_on_conflict
def add_item(store: EventStore, order_id: str, item_id: str, quantity: int, price: Decimal) -> int:
    order = load(store, order_id)  # re-read at each attempt
    if order.status != "created":
        raise ValueError(f"cannot add items to a {order.status} order")
    return store.append(order_id, [NewEvent("ItemAdded", {"item_id": item_id, "quantity": quantity, "price": price})],
                        expected_version=order.version)


@retry_on_conflict
def pay(store: EventStore, order_id: str, method: str) -> int:
    order = load(store, order_id)
    return store.append(order_id, [NewEvent("OrderPaid", {"payment_method": method, "amount": order.total})],
                        expected_version=order.version)


def main(dsn: str) -> None:
    order_id = f"order-{uuid.uuid4()}"
    with EventStore(dsn) as store:
        create(store, order_id, "customer-123")
        add_item(store, order_id, "apple", 3, Decimal("1.50"))
        add_item(store, order_id, "banana", 2, Decimal("0.75"))
        pay(store, order_id, "credit_card")
        order = load(store, order_id)
        for event in store.read_stream(order_id):
            print(event.version, event.event_type, event.data)
        print(f"{order.status}, version {order.version}, total ${order.total}")


if __name__ == "__main__":
    main(sys.argv[1])
