"""AsyncEventStore against the real extension: the same calls, errors and
subscription loop as the blocking store, under asyncio."""

from __future__ import annotations

import asyncio
import unittest
import uuid
from decimal import Decimal

import psycopg

import support
from chronicle_eventstore import AsyncEventStore, ConcurrencyError, NewEvent, NotFound, retry_on_conflict


class AsyncStoreTest(unittest.IsolatedAsyncioTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.database = support.fresh_database()
        with psycopg.connect(support.admin_dsn(cls.database), autocommit=True) as conn:
            conn.execute("GRANT chronicle_admin TO chronicle_py_app")

    @classmethod
    def tearDownClass(cls) -> None:
        support.drop_database(cls.database)

    async def asyncSetUp(self) -> None:
        self.store = AsyncEventStore(support.dsn(self.database))
        await self.store.open()
        self.order = f"order-{uuid.uuid4()}"

    async def asyncTearDown(self) -> None:
        await self.store.close()

    async def test_append_read_and_errors(self) -> None:
        s = self.store
        self.assertEqual(await s.append(self.order, [NewEvent("OrderCreated", {"total": Decimal("6.00")})],
                                        expected_version=0, stream_type="Order"), 1)
        events = await s.read_stream(self.order)
        self.assertEqual(str(events[0].data["total"]), "6.00")
        self.assertEqual(await s.stream_version(self.order), 1)
        self.assertTrue(await s.exists(self.order))
        with self.assertRaises(ConcurrencyError) as cm:
            await s.append(self.order, [NewEvent("OrderPaid", {})], expected_version=0)
        self.assertEqual((cm.exception.expected_version, cm.exception.actual_version), (0, 1))
        with self.assertRaises(NotFound):
            await s.state_at(f"order-{uuid.uuid4()}")
        async with s.transaction() as tx:
            await tx.append(self.order, [NewEvent("OrderPaid", {})], expected_version=1)
        self.assertEqual(await s.stream_version(self.order), 2)

    async def test_retry_on_conflict_with_concurrent_coroutines(self) -> None:
        s = self.store
        await s.append(self.order, [NewEvent("OrderCreated", {})])

        @retry_on_conflict(attempts=20)
        async def add(i: int) -> int:
            version = await s.stream_version(self.order)
            await asyncio.sleep(0.01)  # let the others read the same version
            return await s.append(self.order, [NewEvent("ItemAdded", {"i": i})], expected_version=version)

        versions = await asyncio.gather(*(add(i) for i in range(4)))
        self.assertEqual(sorted(versions), [2, 3, 4, 5])
        self.assertEqual(sorted(e.data["i"] for e in await s.read_stream(self.order, 2)), [0, 1, 2, 3])

    async def test_subscription_async_for_and_run(self) -> None:
        stream_type = f"Async{uuid.uuid4().hex[:8]}"
        name = f"sub-{uuid.uuid4().hex[:8]}"
        sub = await self.store.subscribe(name, stream_type=stream_type, max_count=1)  # a batch per event
        seen = []

        async def late() -> None:
            await asyncio.sleep(0.3)
            for i in range(3):
                await self.store.append(f"{stream_type.lower()}-{i}", [NewEvent("Happened", {"i": i})],
                                        stream_type=stream_type)

        writer = asyncio.create_task(late())
        async for event in sub:
            seen.append(event.data["i"])
            if len(seen) == 3:
                sub.stop()
        await writer
        self.assertEqual(seen, [0, 1, 2])
        handled = []

        async def handler(event, tx) -> None:
            handled.append(event.data["i"])

        await (await self.store.subscribe(name, until_caught_up=True)).run(handler)
        # stop() came while the third event's batch was being iterated: that
        # batch was not acknowledged, and is delivered again (at least once).
        self.assertEqual(handled, [2])
        self.assertEqual([e async for e in await self.store.subscribe(name, until_caught_up=True)], [])


if __name__ == "__main__":
    unittest.main()
