"""The examples run as a user runs them (a new process each), against the
real extension, and print what they promise."""

from __future__ import annotations

import subprocess
import sys
import unittest
from pathlib import Path

import support

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class ExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.database = support.fresh_database()

    @classmethod
    def tearDownClass(cls) -> None:
        support.drop_database(cls.database)

    def run_example(self, name: str) -> list[str]:
        done = subprocess.run([sys.executable, str(EXAMPLES / name), support.dsn(self.database)],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout.splitlines()

    def test_order(self) -> None:
        lines = self.run_example("order.py")
        self.assertEqual(lines[-1], "paid, version 4, total $6.00")
        self.assertEqual([line.split()[1] for line in lines[:4]], ["OrderCreated", "ItemAdded", "ItemAdded", "OrderPaid"])
        self.assertIn("'price': Decimal('1.50')", lines[1])
        self.assertIn("'amount': Decimal('6.00')", lines[3])

    def test_trace(self) -> None:
        lines = self.run_example("trace.py")
        self.assertTrue(lines[-1].startswith("4 events in 3 streams"), lines)
        self.assertEqual(lines[0], "Order order 1 OrderPlaced")
        self.assertEqual(lines[3], "Order order 2 OrderCompleted")
        self.assertEqual(sorted(line.split()[3] for line in lines[1:3]), ["PaymentTaken", "ShipmentBooked"])


if __name__ == "__main__":
    unittest.main()
