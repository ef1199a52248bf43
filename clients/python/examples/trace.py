"""One workflow across streams, traced by its execution id (the seeds'
get_events_by_execution), with the asyncio store: an order is placed, its
payment taken and its shipment booked by three writers, each appending to
its own stream with the same correlation id; the trace reads them back in
feed order.

    python examples/trace.py "host=... dbname=... user=..."
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from decimal import Decimal

from chronicle_eventstore import AsyncEventStore, NewEvent


async def main(dsn: str) -> None:
    execution_id = str(uuid.uuid4())
    n = uuid.uuid4().hex[:8]
    order, payment, shipment = f"order-{n}", f"payment-{n}", f"shipment-{n}"
    async with AsyncEventStore(dsn) as store:
        await store.append(order, [NewEvent("OrderPlaced", {"total": Decimal("6.00")}, correlation_id=execution_id)],
                           expected_version=0, stream_type="Order")
        # The payment and the shipment are taken concurrently, by their own writers.
        await asyncio.gather(
            store.append(payment, [NewEvent("PaymentTaken", {"amount": Decimal("6.00")}, correlation_id=execution_id,
                                            causation_id=order)], expected_version=0, stream_type="Payment"),
            store.append(shipment, [NewEvent("ShipmentBooked", {"carrier": "post"}, correlation_id=execution_id,
                                             causation_id=order)], expected_version=0, stream_type="Shipment"),
        )
        await store.append(order, [NewEvent("OrderCompleted", {}, correlation_id=execution_id)], expected_version=1)
        trace = await store.read_correlation(execution_id)
        for event in trace:
            print(event.stream_type, event.stream_id.split("-")[0], event.version, event.event_type)
        print(f"{len(trace)} events in {len({e.stream_id for e in trace})} streams for execution {execution_id[:8]}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
