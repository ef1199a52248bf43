"""Chronicle's SQL API from Python with psycopg 3: append, read, and the
40001 conflict handled the way an application would handle it.

Run with CHRONICLE_DSN pointing at a database with the extension installed.
"""

import json
import os
import time
import unittest
import uuid

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

DSN = os.environ["CHRONICLE_DSN"]


def add_item(conn, order_id, item, quantity, price, attempts=5):
    """A unit of work with optimistic locking: read the version, decide, append;
    on a conflict (SQLSTATE 40001) start over."""
    for _ in range(attempts):
        try:
            with conn.transaction():
                version = conn.execute("SELECT chronicle.stream_version(%s)", [order_id]).fetchone()[0]
                return conn.execute(
                    "SELECT chronicle.append_event(%s, 'ItemAdded', %s, expected_version => %s)",
                    [order_id, Jsonb({"item_id": item, "quantity": quantity, "price": price}), version],
                ).fetchone()[0]
        except psycopg.errors.SerializationFailure:
            continue
    raise RuntimeError("gave up after repeated conflicts")


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.conn = psycopg.connect(DSN, autocommit=True)
        self.order = f"order-{uuid.uuid4()}"

    def tearDown(self):
        self.conn.close()

    def test_append_and_read_the_seed_order(self):
        c = self.conn
        v = c.execute(
            "SELECT chronicle.append_event(%s, 'OrderCreated', %s, stream_type => 'Order', expected_version => 0)",
            [self.order, Jsonb({"customer_id": "customer-123", "status": "created"})],
        ).fetchone()[0]
        self.assertEqual(v, 1)
        self.assertEqual(add_item(c, self.order, "apple", 3, 1.50), 2)
        self.assertEqual(add_item(c, self.order, "banana", 2, 0.75), 3)
        rows = c.execute(
            "SELECT version, event_type, data FROM chronicle.read_stream(%s)", [self.order]
        ).fetchall()
        self.assertEqual([r[0] for r in rows], [1, 2, 3])
        self.assertEqual(rows[1][2], {"item_id": "apple", "quantity": 3, "price": 1.5})
        total = sum(r[2]["quantity"] * r[2]["price"] for r in rows if r[1] == "ItemAdded")
        self.assertAlmostEqual(total, 6.00)

    def test_conflict_is_serialization_failure_with_detail_and_hint(self):
        c = self.conn
        c.execute("SELECT chronicle.append_event(%s, 'OrderCreated', '{}', stream_type => 'Order')", [self.order])
        with self.assertRaises(psycopg.errors.SerializationFailure) as cm:
            c.execute("SELECT chronicle.append_event(%s, 'OrderPaid', '{}', expected_version => 0)", [self.order])
        e = cm.exception
        self.assertEqual(e.sqlstate, "40001")
        self.assertIn(self.order, e.diag.message_primary)
        self.assertEqual(e.diag.message_detail, "Expected version 0 (no stream), actual version 1.")
        self.assertIn("retry", e.diag.message_hint)
        self.assertEqual(c.execute("SELECT chronicle.stream_version(%s)", [self.order]).fetchone()[0], 1)

    def test_retry_helper_recovers_from_a_concurrent_writer(self):
        c = self.conn
        c.execute("SELECT chronicle.append_event(%s, 'OrderCreated', '{}', stream_type => 'Order')", [self.order])
        other = psycopg.connect(DSN, autocommit=True)
        try:
            # The other writer appends between our read and our append once.
            with c.transaction():
                version = c.execute("SELECT chronicle.stream_version(%s)", [self.order]).fetchone()[0]
                other.execute("SELECT chronicle.append_event(%s, 'ItemAdded', '{}')", [self.order])
                with self.assertRaises(psycopg.errors.SerializationFailure):
                    with c.transaction():
                        c.execute("SELECT chronicle.append_event(%s, 'ItemAdded', '{}', expected_version => %s)",
                                  [self.order, version])
            self.assertEqual(add_item(c, self.order, "pear", 1, 2.0), 3)
        finally:
            other.close()

    def test_bad_input_is_invalid_parameter_value(self):
        with self.assertRaises(psycopg.errors.InvalidParameterValue) as cm:
            self.conn.execute("SELECT chronicle.append_event(%s, 'OrderCreated', '[1]')", [self.order])
        self.assertTrue(cm.exception.diag.message_primary.startswith("data must be a JSON object"))
        with self.assertRaises(psycopg.errors.NullValueNotAllowed):
            self.conn.execute("SELECT chronicle.append_event(NULL, 'OrderCreated', '{}')")

    def test_batch_and_idempotent_retry(self):
        c = self.conn
        ids = [str(uuid.uuid4()), str(uuid.uuid4())]
        events = Jsonb([{"event_type": "OrderCreated", "data": {}, "event_id": ids[0]},
                        {"event_type": "ItemAdded", "data": {"item_id": "kiwi"}, "event_id": ids[1]}])
        sql = "SELECT chronicle.append_events(%s, %s, expected_version => 0, stream_type => 'Order')"
        self.assertEqual(c.execute(sql, [self.order, events]).fetchone()[0], 2)
        # The network dropped the reply; the client sends the same batch again.
        self.assertEqual(c.execute(sql, [self.order, events]).fetchone()[0], 2)
        self.assertEqual(c.execute("SELECT count(*) FROM chronicle.read_stream(%s)", [self.order]).fetchone()[0], 2)


def set_notify_mode(mode):
    """chronicle.notify for the whole cluster (the sealer worker reads it on reload)."""
    with psycopg.connect(DSN, autocommit=True) as admin:
        admin.execute("SELECT chronicle.stream_version('x')")  # loads the library (the GUC)
        if mode is None:
            admin.execute("ALTER SYSTEM RESET chronicle.notify")
        else:
            admin.execute(sql.SQL("ALTER SYSTEM SET chronicle.notify = {}").format(sql.Literal(mode)))
        admin.execute("SELECT pg_reload_conf()")
    time.sleep(0.3)  # the sealer reloads between seals


class NotificationBase(unittest.TestCase):
    mode = None

    @classmethod
    def setUpClass(cls):
        set_notify_mode(cls.mode)

    @classmethod
    def tearDownClass(cls):
        set_notify_mode(None)

    def setUp(self):
        self.listener = psycopg.connect(DSN, autocommit=True)
        self.listener.execute("LISTEN chronicle")
        self.writer = psycopg.connect(DSN, autocommit=True)
        self.prefix = f"n{uuid.uuid4().hex[:8]}"

    def tearDown(self):
        self.listener.close()
        self.writer.close()

    def heard(self, expected_count):
        got = [json.loads(n.payload) for n in self.listener.notifies(timeout=3, stop_after=expected_count)]
        # nothing more arrives
        got += [json.loads(n.payload) for n in self.listener.notifies(timeout=0.5)]
        return sorted(got, key=lambda p: p["stream_id"])

    def append(self, stream, n=1):
        for _ in range(n):
            self.writer.execute("SELECT chronicle.append_event(%s, 'Ticked', '{}', stream_type => 'Clock')", [stream])

    def position(self, stream, version):
        self.writer.execute("SELECT chronicle.seal()")
        return self.writer.execute(
            "SELECT global_position FROM chronicle.events WHERE stream_id = %s AND version = %s",
            [stream, version]).fetchone()[0]

    def one_transaction(self):
        """Appends a x3 and b x1 in one transaction; returns (a, b)."""
        a, b = f"{self.prefix}-a", f"{self.prefix}-b"
        with self.writer.transaction():
            self.append(a, 2)
            self.append(b)
            self.append(a)
        return a, b

    def with_rollbacks(self):
        """Rolled-back work on c, committed work on d (version 2); returns d."""
        c, d = f"{self.prefix}-c", f"{self.prefix}-d"
        with self.writer.transaction(force_rollback=True):
            self.append(c)
        with self.writer.transaction():
            self.append(d)
            try:
                with self.writer.transaction():  # a savepoint
                    self.append(c)
                    raise RuntimeError("roll the savepoint back")
            except RuntimeError:
                pass
            with self.writer.transaction():  # a savepoint that is released
                self.append(d)
        return d


class SealedNotificationTest(NotificationBase):
    """The default: the sealer announces each stream it sealed, with the position."""

    def test_one_notification_per_stream_with_version_and_position(self):
        a, b = self.one_transaction()
        self.assertEqual(self.heard(2), [
            {"stream_type": "Clock", "stream_id": a, "version": 3, "position": self.position(a, 3)},
            {"stream_type": "Clock", "stream_id": b, "version": 1, "position": self.position(b, 1)},
        ])

    def test_rolled_back_work_is_never_announced(self):
        d = self.with_rollbacks()
        self.assertEqual(self.heard(1), [
            {"stream_type": "Clock", "stream_id": d, "version": 2, "position": self.position(d, 2)}])

    def test_sealed_is_the_default(self):
        with psycopg.connect(DSN, autocommit=True) as fresh:
            fresh.execute("SELECT chronicle.stream_version('x')")  # loads the library
            self.assertEqual(fresh.execute("SHOW chronicle.notify").fetchone()[0], "sealed")


class CommitNotificationTest(NotificationBase):
    """chronicle.notify = commit: each committing transaction announces its streams."""
    mode = "commit"

    def test_one_notification_per_stream_with_the_version_at_commit(self):
        a, b = self.one_transaction()
        self.assertEqual(self.heard(2), [
            {"stream_type": "Clock", "stream_id": a, "version": 3, "position": None},
            {"stream_type": "Clock", "stream_id": b, "version": 1, "position": None},
        ])

    def test_rolled_back_work_is_never_announced(self):
        d = self.with_rollbacks()
        self.assertEqual(self.heard(1), [{"stream_type": "Clock", "stream_id": d, "version": 2, "position": None}])


class NoNotificationTest(NotificationBase):
    mode = "off"

    def test_off_sends_nothing(self):
        self.one_transaction()
        self.with_rollbacks()
        self.assertEqual(self.heard(0), [])


if __name__ == "__main__":
    unittest.main()
