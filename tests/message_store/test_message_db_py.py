"""message-db-py (message-db's Python client, from PyPI, unchanged) against
chronicle_message_store: it logs in as role message_store and finds the
functions through search_path "$user", as it does on message-db.

Run by ./chronicle test (suite message-store) with CHRONICLE_ADMIN_DSN set
to a superuser's connection string without dbname; each test case gets a
database of its own.
"""

import hashlib
import os
import unittest
import uuid

import psycopg
from message_db.client import MessageDB

ADMIN_DSN = os.environ["CHRONICLE_ADMIN_DSN"]


def message_db_hash_64(value: str) -> int:
    """message-db's hash_64, computed here: the first 8 bytes of the MD5, as
    a signed 64-bit integer."""
    return int.from_bytes(hashlib.md5(value.encode()).digest()[:8], "big", signed=True)


class MessageDbPy(unittest.TestCase):
    db: str

    @classmethod
    def setUpClass(cls) -> None:
        cls.db = f"chronicle_mdb_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{ADMIN_DSN} dbname=postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {cls.db}")
        with psycopg.connect(f"{ADMIN_DSN} dbname={cls.db}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION chronicle_message_store CASCADE")
        params = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
        cls.client = MessageDB(
            dbname=cls.db,
            user="message_store",
            host=str(params["host"]),
            port=int(params["port"]),
        )

    @classmethod
    def tearDownClass(cls) -> None:
        cls.client.connection_pool.closeall()
        with psycopg.connect(f"{ADMIN_DSN} dbname=postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {cls.db} WITH (FORCE)")

    def seal(self) -> None:
        """Positions now (the sealer would hand them out within milliseconds)."""
        with psycopg.connect(f"{ADMIN_DSN} dbname={self.db}", autocommit=True) as conn:
            conn.execute("SELECT chronicle.seal()")

    def stream(self, category: str = "account") -> str:
        return f"{category}-{uuid.uuid4().hex[:12]}"

    def test_write_and_read_a_stream(self) -> None:
        name = self.stream()
        self.assertEqual(self.client.write(name, "Opened", {"owner": "ann"}), 0)
        self.assertEqual(
            self.client.write(name, "Deposited", {"amount": 10}, {"correlationStreamName": "transfer-1"}), 1
        )
        self.assertEqual(self.client.write(name, "Withdrawn", {"amount": 4}, expected_version=1), 2)
        messages = self.client.read_stream(name)
        self.assertEqual([m["position"] for m in messages], [0, 1, 2])
        self.assertEqual([m["type"] for m in messages], ["Opened", "Deposited", "Withdrawn"])
        self.assertEqual(messages[1]["data"], {"amount": 10})
        self.assertEqual(messages[1]["metadata"], {"correlationStreamName": "transfer-1"})
        self.assertIsNone(messages[0]["metadata"])
        self.assertEqual(messages[0]["stream_name"], name)
        uuid.UUID(messages[0]["id"])
        self.assertEqual([m["position"] for m in self.client.read_stream(name, position=1, no_of_messages=1)], [1])
        last = self.client.read_last_message(name)
        assert last is not None
        self.assertEqual((last["position"], last["type"]), (2, "Withdrawn"))
        self.assertEqual(self.client.read_stream(self.stream()), [])

    def test_write_batch_with_expected_versions(self) -> None:
        name = self.stream()
        last = self.client.write_batch(
            name, [("Opened", {"n": 0}), ("Deposited", {"n": 1}, {"m": 1}), ("Deposited", {"n": 2})], expected_version=-1
        )
        self.assertEqual(last, 2)
        self.assertEqual([m["data"]["n"] for m in self.client.read_stream(name)], [0, 1, 2])

    def test_wrong_expected_version_is_its_exception(self) -> None:
        name = self.stream()
        self.client.write(name, "Opened", {})
        with self.assertRaises(ValueError) as caught:
            self.client.write(name, "Closed", {}, expected_version=1)
        self.assertEqual(
            str(caught.exception), f"P0001-ERROR:  Wrong expected version: 1 (Stream: {name}, Stream Version: 0)"
        )
        with self.assertRaises(ValueError) as caught:
            self.client.write(self.stream(), "Closed", {}, expected_version=0)
        self.assertRegex(str(caught.exception), r"^P0001-ERROR:  Wrong expected version: 0 \(Stream: .*, Stream Version: -1\)$")
        # A batch with a wrong version stores none of it.
        with self.assertRaises(ValueError):
            self.client.write_batch(name, [("A", {}), ("B", {})], expected_version=5)
        self.assertEqual(len(self.client.read_stream(name)), 1)

    def test_category_reads_and_consumer_groups(self) -> None:
        category = f"cart{uuid.uuid4().hex[:6]}"
        # Compound ids (123+abc) go where their cardinal id (123) goes.
        names = [self.stream(category) for _ in range(8)]
        names += [f"{names[i]}+{suffix}" for i, suffix in ((0, "a"), (0, "b"), (1, "x"), (2, "y"))]
        for round_ in range(3):
            for name in names:
                self.client.write(name, "ItemAdded", {"round": round_})
        self.client.write(self.stream("other"), "Unrelated", {})
        self.seal()
        everything = self.client.read_category(category, position=1, no_of_messages=-1)
        self.assertEqual(len(everything), 36)
        positions = [m["global_position"] for m in everything]
        self.assertEqual(positions, sorted(positions))
        # Paging by global position, as a consumer does.
        page = self.client.read_category(category, position=positions[10], no_of_messages=5)
        self.assertEqual([m["global_position"] for m in page], positions[10:15])
        # Three members share the category: every message to exactly one,
        # a stream's messages all to the same one, by message-db's hash.
        seen: dict[str, int] = {}
        total = 0
        for member in range(3):
            batch = self.client.read_category(
                category, position=1, no_of_messages=1000, consumer_group_member=member, consumer_group_size=3
            )
            total += len(batch)
            for m in batch:
                cardinal_id = m["stream_name"].split("-", 1)[1].split("+", 1)[0]
                self.assertEqual(seen.setdefault(cardinal_id, member), member)
                self.assertEqual(abs(message_db_hash_64(cardinal_id)) % 3, member)
        self.assertEqual(total, 36)
        self.assertEqual(len(seen), 8)

    def test_read_all(self) -> None:
        name = self.stream("ledger")
        self.client.write(name, "Posted", {"amount": 1})
        self.seal()
        everything = self.client.read("$all", position=0, no_of_messages=100000)
        self.assertIn(name, [m["stream_name"] for m in everything])
        positions = [m["global_position"] for m in everything]
        self.assertEqual(positions, list(range(1, len(positions) + 1)))

    def test_stream_identifiers(self) -> None:
        category = f"user{uuid.uuid4().hex[:6]}"
        for i in ("1", "2"):
            self.client.write(f"{category}-{i}", "Registered", {})
        self.assertEqual(sorted(self.client.stream_identifiers(category)), ["1", "2"])


if __name__ == "__main__":
    unittest.main()
