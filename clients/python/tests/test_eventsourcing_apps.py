"""chronicle_eventstore.eventsourcing beyond eventsourcing's own test cases:
a system of two applications (a process application following a leader,
tracking written with its events) on Chronicle; encrypted and compressed
states kept byte for byte; eventsourcing's JSON readable in SQL; string
aggregate ids; topics that are not valid type names."""

from __future__ import annotations

import unittest
import uuid
from decimal import Decimal
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.cipher import AESCipher
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent
from eventsourcing.system import ProcessApplication, SingleThreadedRunner, System

import support
from chronicle_eventstore.eventsourcing import Factory, event_type_of

MODULE = "chronicle_eventstore.eventsourcing"


class Order(Aggregate):
    @event("Placed")
    def __init__(self, amount: Decimal) -> None:
        self.amount = amount


class Receipt(Aggregate):
    @staticmethod
    def create_id(order_id: uuid.UUID) -> uuid.UUID:
        return uuid.uuid5(order_id, "receipt")

    @event("Issued")
    def __init__(self, order_id: uuid.UUID, amount: Decimal) -> None:
        self.order_id = order_id
        self.amount = amount


class Orders(Application):
    def place(self, amount: Decimal) -> uuid.UUID:
        order = Order(amount)
        self.save(order)
        return order.id


class Receipts(ProcessApplication):
    def policy(self, domain_event: Any, processing_event: Any) -> None:
        if isinstance(domain_event, Order.Placed):
            processing_event.collect_events(Receipt(order_id=domain_event.originator_id, amount=domain_event.amount))


class AppsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.database = support.fresh_database()
        self.env = {"PERSISTENCE_MODULE": MODULE, "CHRONICLE_DSN": support.dsn(self.database)}

    def tearDown(self) -> None:
        support.drop_database(self.database)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(support.admin_dsn(self.database), autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def test_a_process_application_follows_its_leader_exactly_once(self) -> None:
        runner: SingleThreadedRunner[uuid.UUID] = SingleThreadedRunner(System([[Orders, Receipts]]), env=self.env)
        runner.start()
        orders, receipts = runner.get(Orders), runner.get(Receipts)
        placed = [orders.place(Decimal(amount)) for amount in ("1.50", "0.75", "3.75")]
        for order_id in placed:
            receipt = receipts.repository.get(Receipt.create_id(order_id))
            self.assertEqual(receipt.order_id, order_id)
        self.assertEqual(sum(receipts.repository.get(Receipt.create_id(o)).amount for o in placed), Decimal("6.00"))
        last = orders.recorder.max_notification_id()
        self.assertEqual(receipts.recorder.max_tracking_id("Orders"), last)
        runner.stop()
        # Both applications in one database: their streams and feed positions side by side.
        self.assertEqual(self.sql("SELECT stream_type, count(*) FROM chronicle.events GROUP BY 1 ORDER BY 1"),
                         [("Orders", 3), ("Receipts", 3)])
        # A new runner catches up from its tracking record: nothing is processed twice
        # (a receipt issued twice would be an IntegrityError).
        runner = SingleThreadedRunner(System([[Orders, Receipts]]), env=self.env)
        runner.start()
        runner.get(Orders).place(Decimal("2.00"))
        self.assertEqual(runner.get(Receipts).recorder.max_tracking_id("Orders"), runner.get(Orders).recorder.max_notification_id())
        runner.stop()
        self.assertEqual(self.sql("SELECT count(*) FROM chronicle.events WHERE stream_type = 'Receipts'"), [(4,)])

    def test_states_encrypted_and_compressed_are_kept_byte_for_byte(self) -> None:
        env = {**self.env, "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": AESCipher.create_key(16),
               "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}
        app = Orders(env=env)
        order_id = app.place(Decimal("6.00"))
        self.assertEqual(app.repository.get(order_id).amount, Decimal("6.00"))
        stored = app.recorder.select_events(order_id)[0]
        rows = self.sql("SELECT data ? 'state_base64', data ? 'state' FROM chronicle.events WHERE stream_type = 'Orders'")
        self.assertEqual(rows, [(True, False)])
        self.assertEqual(app.recorder.select_notifications(None, 10)[0].state, stored.state)
        app.close()

    def test_eventsourcing_json_is_readable_in_sql(self) -> None:
        app = Orders(env=self.env)
        order_id = app.place(Decimal("6.00"))
        rows = self.sql("SELECT stream_id, event_type, (data->>'state')::jsonb -> 'amount' ->> '_data_', "
                        "metadata->>'originator_version' FROM chronicle.events")
        self.assertEqual(rows, [(f"orders-{order_id}", "test_eventsourcing_apps:Order.Placed", "6.00", "1")])
        app.close()

    def test_string_ids_and_topics_that_are_not_type_names(self) -> None:
        factory = Factory(env={"CHRONICLE_DSN": support.dsn(self.database), "ORIGINATOR_ID_TYPE": "text"})
        try:
            recorder = factory.application_recorder()
            topic = "tests.module:test_x.<locals>.Dog.Registered"
            state = bytes(range(256))  # not UTF-8
            recorder.insert_events([StoredEvent("dog-1", 0, topic, state), StoredEvent("dog-1", 1, "Dog.Named", b"{}")])
            events = recorder.select_events("dog-1")
            self.assertEqual([(e.originator_id, e.originator_version, e.topic, e.state) for e in events],
                             [("dog-1", 0, topic, state), ("dog-1", 1, "Dog.Named", b"{}")])
            notifications = recorder.select_notifications(None, 10, topics=[topic])
            self.assertEqual([(n.originator_id, n.topic) for n in notifications], [("dog-1", topic)])
            derived = event_type_of(topic)
            self.assertRegex(derived, r"^tests\.module:test_x\._locals_\.Dog\.Registered\.[0-9a-f]{16}$")
            self.assertNotEqual(derived, event_type_of(topic.replace("<", ">")))
            self.assertEqual(self.sql("SELECT event_type, metadata->>'topic' FROM chronicle.events ORDER BY version"),
                             [(derived, topic), ("Dog.Named", None)])
        finally:
            factory.close()


if __name__ == "__main__":
    unittest.main()
