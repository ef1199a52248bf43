"""The package as shipped: the installed copy is the one under test (not the
source tree), it carries py.typed, and its sources type-check (mypy, pinned
in tests/clients/python/requirements.txt)."""

from __future__ import annotations

import subprocess
import sys
import unittest
from pathlib import Path

import chronicle_eventstore

SOURCES = Path(__file__).resolve().parent.parent / "src" / "chronicle_eventstore"


class PackageTest(unittest.TestCase):
    def test_installed_with_its_type_marker(self) -> None:
        installed = Path(chronicle_eventstore.__file__).parent
        self.assertNotEqual(installed, SOURCES, "the tests must import the installed package")
        self.assertTrue((installed / "py.typed").exists())
        self.assertEqual(sorted(p.name for p in installed.glob("*.py")), sorted(p.name for p in SOURCES.glob("*.py")))

    def test_sources_type_check(self) -> None:
        done = subprocess.run([sys.executable, "-m", "mypy", "--ignore-missing-imports", "--no-incremental", str(SOURCES)],
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)


if __name__ == "__main__":
    unittest.main()
