"""chronicle_eventstore's EventStore against the real extension: appends
and reads with exact numbers, every exception family with its fields,
retry_on_conflict against a real concurrent writer, and the subscription
loop (at-least-once, acknowledged in the handler's transaction, stopped from
another thread, woken by LISTEN)."""

from __future__ import annotations

import threading
import time
import unittest
import uuid
from decimal import Decimal

import psycopg

import support
from chronicle_eventstore import (
    AlreadyExists,
    ChronicleError,
    ConcurrencyError,
    EventStore,
    InvalidValueError,
    NewEvent,
    NotFound,
    NullValueError,
    PermissionDenied,
    TooLongError,
    ValidationError,
    dumps,
    loads,
    retry_on_conflict,
)


class StoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.database = support.fresh_database()
        cls.store = EventStore(support.dsn(cls.database))

    @classmethod
    def tearDownClass(cls) -> None:
        cls.store.close()
        support.drop_database(cls.database)

    def setUp(self) -> None:
        self.order = f"order-{uuid.uuid4()}"

    def seal(self) -> None:
        with psycopg.connect(support.admin_dsn(self.database), autocommit=True) as conn:
            conn.execute("SELECT chronicle.seal()")

    def test_append_and_read_with_exact_numbers(self) -> None:
        s = self.store
        v = s.append(self.order, [NewEvent("OrderCreated", {"customer_id": "customer-123"})],
                     expected_version=0, stream_type="Order")
        self.assertEqual(v, 1)
        v = s.append(self.order, [
            NewEvent("ItemAdded", {"item_id": "apple", "quantity": 3, "price": Decimal("1.50")}),
            {"event_type": "ItemAdded", "data": {"item_id": "banana", "quantity": 2, "price": Decimal("0.75")}},
        ], expected_version=1)
        self.assertEqual(v, 3)
        events = s.read_stream(self.order)
        self.assertEqual([e.version for e in events], [1, 2, 3])
        self.assertEqual(events[1].data["price"], Decimal("1.50"))
        self.assertEqual(str(events[1].data["price"]), "1.50")  # the digits as written
        self.assertIsInstance(events[1].data["quantity"], int)
        self.assertEqual(events[0].stream_type, "Order")
        self.assertIsInstance(events[0].event_id, uuid.UUID)
        total = sum(e.data["quantity"] * e.data["price"] for e in events if e.event_type == "ItemAdded")
        self.assertEqual(total, Decimal("6.00"))
        self.assertEqual(s.stream_version(self.order), 3)
        self.assertTrue(s.exists(self.order))
        self.assertFalse(s.exists(f"order-{uuid.uuid4()}"))
        self.assertEqual([e.version for e in s.read_stream(self.order, 2, 2)], [2])
        self.assertEqual(s.read_stream(f"order-{uuid.uuid4()}"), [])

    def test_json_codec_round_trip(self) -> None:
        value = {"a": Decimal("0.10"), "b": [1, 2.5, None, True, "é"], "c": {"d": Decimal("-1E+3")}}
        text = dumps(value)
        self.assertEqual(text, '{"a":0.10,"b":[1,2.5,null,true,"é"],"c":{"d":-1E+3}}')
        self.assertEqual(loads(text)["a"], Decimal("0.10"))
        with self.assertRaises(ValueError):
            dumps({"x": Decimal("NaN")})
        with self.assertRaises(TypeError):
            self.store.append(self.order, NewEvent("X", {}))  # type: ignore[arg-type]

    def test_read_all_and_correlation(self) -> None:
        correlation = str(uuid.uuid4())
        payment = f"payment-{uuid.uuid4()}"
        self.store.append(self.order, [NewEvent("OrderCreated", {}, correlation_id=correlation)], stream_type="Order")
        self.store.append(payment, [NewEvent("PaymentTaken", {"amount": Decimal("6.00")}, correlation_id=correlation,
                                             actor="customer-123")], stream_type="Payment")
        trace = self.store.read_correlation(correlation)
        self.assertEqual([(e.stream_id, e.event_type) for e in trace],
                         [(self.order, "OrderCreated"), (payment, "PaymentTaken")])
        self.assertEqual(trace[1].actor, "customer-123")
        self.seal()
        head = self.store.feed_head()
        feed = self.store.read_all(head - 2, 10)
        self.assertEqual([e.global_position for e in feed], [head - 1, head])
        self.assertEqual([e.stream_id for e in self.store.read_all(head - 2, 10, stream_type="Payment")], [payment])
        self.assertEqual(len(self.store.read_all(head - 2, 10, event_types=["OrderCreated"])), 1)

    def test_state_at_not_found(self) -> None:
        with self.assertRaises(NotFound) as cm:
            self.store.state_at(f"order-{uuid.uuid4()}")
        self.assertEqual(cm.exception.sqlstate, "42704")
        self.assertIsInstance(cm.exception, ChronicleError)
        self.assertTrue(cm.exception.hint)
        self.assertIsInstance(cm.exception.__cause__, psycopg.errors.UndefinedObject)

    def test_state_at_folds_with_a_reducer(self) -> None:
        with psycopg.connect(support.admin_dsn(self.database), autocommit=True) as conn:
            conn.execute("""SELECT chronicle.define_reducer('Basket', '{
                "initial": {"items": {}},
                "on": {"ItemAdded": [{"op": "set", "path": "/items/{item_id}",
                                      "from": {"quantity": "/data/quantity", "price": "/data/price"}}]},
                "derive": [{"path": "/total", "value": {"sum": "/items", "of": {"multiply": ["/quantity", "/price"]}}}]
            }')""")
        basket = f"basket-{uuid.uuid4()}"
        self.store.append(basket, [NewEvent("ItemAdded", {"item_id": "apple", "quantity": 3, "price": Decimal("1.50")}),
                                   NewEvent("ItemAdded", {"item_id": "banana", "quantity": 2, "price": Decimal("0.75")})],
                          stream_type="Basket")
        self.assertEqual(self.store.state_at(basket)["total"], Decimal("6.00"))
        self.assertEqual(str(self.store.state_at(basket)["total"]), "6.00")
        self.assertEqual(self.store.state_at(basket, to_version=1)["total"], Decimal("4.50"))

    def test_conflict_carries_expected_and_actual_version(self) -> None:
        self.store.append(self.order, [NewEvent("OrderCreated", {})])
        with self.assertRaises(ConcurrencyError) as cm:
            self.store.append(self.order, [NewEvent("OrderPaid", {})], expected_version=0)
        e = cm.exception
        self.assertEqual((e.sqlstate, e.expected_version, e.actual_version), ("40001", 0, 1))
        self.assertIn("retry", e.hint or "")
        self.assertEqual(self.store.stream_version(self.order), 1)

    def test_validation_errors_name_the_field(self) -> None:
        s = self.store
        cases = [
            (lambda: s.append(self.order, [{"event_type": "X", "data": [1]}]), InvalidValueError, "22023", "events[0].data"),
            (lambda: s.append(self.order, [{"event_type": "X"}]), NullValueError, "22004", "events[0].data"),
            (lambda: s.append("x" * 300, [NewEvent("X", {})], stream_type="T"), TooLongError, "22001", "stream_id"),
            (lambda: s.read_stream(self.order, 3, 2), InvalidValueError, "22023", "to_version"),
            (lambda: s.append(self.order, [{"event_type": "X", "data": {}, "colour": 1}]), InvalidValueError, "22023", None),
        ]
        for call, cls, code, field in cases:
            with self.subTest(code=code, field=field):
                with self.assertRaises(cls) as cm:
                    call()
                self.assertIsInstance(cm.exception, ValidationError)
                self.assertEqual(cm.exception.sqlstate, code)
                if field:
                    self.assertEqual(cm.exception.field, field)
                self.assertTrue(cm.exception.hint)
        self.assertEqual(s.stream_version(self.order), 0)  # nothing stored

    def test_permission_denied_for_a_reader(self) -> None:
        with EventStore(support.dsn(self.database, support.READER_ROLE)) as reader:
            self.assertEqual(reader.stream_version(self.order), 0)
            with self.assertRaises(PermissionDenied) as cm:
                reader.append(self.order, [NewEvent("X", {})])
            self.assertEqual(cm.exception.sqlstate, "42501")

    def test_transaction_commits_together_or_not_at_all(self) -> None:
        other = f"order-{uuid.uuid4()}"
        with self.assertRaises(ConcurrencyError):
            with self.store.transaction() as tx:
                tx.append(self.order, [NewEvent("OrderCreated", {})], expected_version=0)
                tx.append(other, [NewEvent("OrderCreated", {})], expected_version=5)
        self.assertEqual(self.store.stream_version(self.order), 0)
        with self.store.transaction() as tx:
            tx.append(self.order, [NewEvent("OrderCreated", {})], expected_version=0)
            tx.connection.execute("SELECT 1")
        self.assertEqual(self.store.stream_version(self.order), 1)

    def test_retry_on_conflict_recovers_from_a_real_concurrent_writer(self) -> None:
        s = self.store
        s.append(self.order, [NewEvent("OrderCreated", {})])
        attempts = []

        @retry_on_conflict(attempts=3)
        def add_item() -> int:
            version = s.stream_version(self.order)
            attempts.append(version)
            if len(attempts) == 1:  # another writer appends between our read and our append
                with EventStore(support.dsn(self.database)) as other:
                    other.append(self.order, [NewEvent("ItemAdded", {"by": "other"})])
            return s.append(self.order, [NewEvent("ItemAdded", {"by": "us"})], expected_version=version)

        self.assertEqual(add_item(), 3)
        self.assertEqual(attempts, [1, 2])
        self.assertEqual([e.data["by"] for e in s.read_stream(self.order, 2)], ["other", "us"])

        @retry_on_conflict(attempts=2)
        def always_stale() -> int:
            return s.append(self.order, [NewEvent("ItemAdded", {})], expected_version=1)

        with self.assertRaises(ConcurrencyError):
            always_stale()

    def test_subscription_iterates_acknowledges_and_stops(self) -> None:
        name = f"sub-{uuid.uuid4().hex[:8]}"
        stream_type = f"Sub{uuid.uuid4().hex[:8]}"
        with psycopg.connect(support.admin_dsn(self.database), autocommit=True) as conn:
            conn.execute("SELECT chronicle.create_subscription(%s, %s)", [name, stream_type])
            conn.execute("GRANT chronicle_admin TO chronicle_py_app")
        try:
            for i in range(3):
                self.store.append(f"{stream_type.lower()}-{i}", [NewEvent("Happened", {"i": i})], stream_type=stream_type)
            seen = []
            with self.store.subscribe(name, create=False, max_count=2) as sub:
                late = threading.Timer(0.5, lambda: self.store.append(
                    f"{stream_type.lower()}-9", [NewEvent("Happened", {"i": 9})], stream_type=stream_type))
                late.start()
                started = time.monotonic()
                for event in sub:
                    seen.append(event.data["i"])
                    if len(seen) == 4:
                        sub.stop()  # the batch of the 4th is not acknowledged
                late.join()
            self.assertEqual(seen, [0, 1, 2, 9])
            self.assertLess(time.monotonic() - started, 5)  # woken by the seal's NOTIFY, not a long sleep
            with psycopg.connect(support.admin_dsn(self.database), autocommit=True) as conn:
                (position,) = conn.execute("SELECT last_position FROM chronicle.subscriptions WHERE name = %s",
                                           [name]).fetchone()
                (third,) = conn.execute("SELECT global_position FROM chronicle.events WHERE stream_id = %s",
                                        [f"{stream_type.lower()}-2"]).fetchone()
            self.assertEqual(position, third)  # acknowledged up to the last whole batch
            # At least once: the unacknowledged event comes again; run() acks in its transaction.
            handled = []

            def handler(event, tx) -> None:
                handled.append(event.data["i"])
                tx.connection.execute("SELECT 1")

            self.store.subscribe(name, until_caught_up=True).run(handler)
            self.assertEqual(handled, [9])
            self.assertEqual(list(self.store.subscribe(name, until_caught_up=True)), [])
        finally:
            with psycopg.connect(support.admin_dsn(self.database), autocommit=True) as conn:
                conn.execute("REVOKE chronicle_admin FROM chronicle_py_app")

    def test_subscribe_creates_once(self) -> None:
        with psycopg.connect(support.admin_dsn(self.database), autocommit=True) as conn:
            conn.execute("GRANT chronicle_admin TO chronicle_py_app")
        try:
            name = f"sub-{uuid.uuid4().hex[:8]}"
            self.store.subscribe(name, stream_type="Nothing", until_caught_up=True)
            self.store.subscribe(name, stream_type="Nothing", until_caught_up=True)  # exists: kept
            from chronicle_eventstore import calls
            with self.assertRaises(AlreadyExists):
                self.store._run(calls.create_subscription(name, None, None, 0))
        finally:
            with psycopg.connect(support.admin_dsn(self.database), autocommit=True) as conn:
                conn.execute("REVOKE chronicle_admin FROM chronicle_py_app")


if __name__ == "__main__":
    unittest.main()
