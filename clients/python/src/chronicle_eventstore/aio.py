"""The asyncio event store: ``AsyncEventStore`` over a psycopg async pool,
with the same calls (``calls.py``) and errors as ``EventStore``."""

from __future__ import annotations

import asyncio
import inspect
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator, Awaitable, Callable, Optional, Sequence, Union

import psycopg
from psycopg_pool import AsyncConnectionPool

from . import calls
from .calls import Call
from .errors import AlreadyExists, from_psycopg
from .events import JSON, RecordedEvent
from .store import EventsArg


async def execute(conn: psycopg.AsyncConnection[Any], call: Call) -> Any:
    """Runs a call on a connection; a rejection becomes a ChronicleError."""
    try:
        cursor = await conn.execute(call.sql, call.params)
        rows = await cursor.fetchall()
    except psycopg.Error as e:
        if e.sqlstate is None:
            raise
        raise from_psycopg(e) from e
    return call.result(rows)


async def connect_arguments(pool: AsyncConnectionPool) -> tuple[str, dict[str, Any]]:
    """As ``store.connect_arguments``; the functions may be coroutines."""
    conninfo: Any = pool.conninfo() if callable(pool.conninfo) else pool.conninfo
    if inspect.isawaitable(conninfo):
        conninfo = await conninfo
    kwargs: Any = pool.kwargs() if callable(pool.kwargs) else pool.kwargs
    if inspect.isawaitable(kwargs):
        kwargs = await kwargs
    return conninfo, dict(kwargs or {})


class _AsyncApi:
    async def _run(self, call: Call) -> Any:
        raise NotImplementedError

    async def append(
        self,
        stream_id: str,
        events: EventsArg,
        expected_version: Optional[int] = None,
        stream_type: Optional[str] = None,
    ) -> int:
        """As ``EventStore.append``."""
        return await self._run(calls.append(stream_id, events, expected_version, stream_type))

    async def read_stream(
        self, stream_id: str, from_version: int = 1, to_version: Optional[int] = None, upcast: bool = False
    ) -> list[RecordedEvent]:
        """As ``EventStore.read_stream``."""
        return await self._run(calls.read_stream(stream_id, from_version, to_version, upcast))

    async def read_correlation(self, correlation_id: str) -> list[RecordedEvent]:
        """As ``EventStore.read_correlation``."""
        return await self._run(calls.read_correlation(correlation_id))

    async def stream_version(self, stream_id: str) -> int:
        """As ``EventStore.stream_version``."""
        return await self._run(calls.stream_version(stream_id))

    async def exists(self, stream_id: str) -> bool:
        """As ``EventStore.exists``."""
        return await self._run(calls.exists(stream_id))

    async def state_at(
        self, stream_id: str, to_version: Optional[int] = None, as_of: Optional[datetime] = None
    ) -> JSON:
        """As ``EventStore.state_at``."""
        return await self._run(calls.state_at(stream_id, to_version, as_of))

    async def read_all(
        self,
        after_position: int = 0,
        max_count: int = 1000,
        stream_type: Optional[str] = None,
        event_types: Optional[Sequence[str]] = None,
    ) -> list[RecordedEvent]:
        """As ``EventStore.read_all``."""
        return await self._run(calls.read_all(after_position, max_count, stream_type, event_types))

    async def feed_head(self) -> int:
        """As ``EventStore.feed_head``."""
        return await self._run(calls.feed_head())


class AsyncEventStore(_AsyncApi):
    """``EventStore`` for asyncio. ``source``: a connection string or an
    ``AsyncConnectionPool`` (then the caller owns it). Open it with
    ``async with AsyncEventStore(...) as store`` or ``await store.open()``."""

    def __init__(self, source: Union[str, AsyncConnectionPool], pool_size: int = 4) -> None:
        if isinstance(source, AsyncConnectionPool):
            self.pool = source
            self._owns_pool = False
        else:
            self.pool = AsyncConnectionPool(
                source, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=False
            )
            self._owns_pool = True

    async def open(self) -> None:
        if self._owns_pool:
            await self.pool.open()

    async def close(self) -> None:
        if self._owns_pool:
            await self.pool.close()

    async def __aenter__(self) -> AsyncEventStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _run(self, call: Call) -> Any:
        async with self.pool.connection() as conn:
            return await execute(conn, call)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncTransaction]:
        """As ``EventStore.transaction``."""
        async with self.pool.connection() as conn, conn.transaction():
            yield AsyncTransaction(conn)

    async def subscribe(
        self,
        name: str,
        *,
        stream_type: Optional[str] = None,
        event_types: Optional[Sequence[str]] = None,
        after_position: int = 0,
        create: bool = True,
        max_count: int = 500,
        consumer: int = 0,
        consumers: int = 1,
        until_caught_up: bool = False,
    ) -> AsyncSubscription:
        """As ``EventStore.subscribe``; iterate with ``async for``."""
        if create:
            try:
                await self._run(calls.create_subscription(name, stream_type, event_types, after_position))
            except AlreadyExists:
                pass
        return AsyncSubscription(self, calls.Follower(name, max_count, consumer, consumers, until_caught_up))


class AsyncTransaction(_AsyncApi):
    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection

    async def _run(self, call: Call) -> Any:
        return await execute(self.connection, call)


class AsyncSubscription:
    """``Subscription`` for asyncio: ``async for event in sub``, or
    ``await sub.run(handler)`` with an ``async`` handler; ``stop()``."""

    def __init__(self, store: AsyncEventStore, follower: calls.Follower) -> None:
        self.store = store
        self.follower = follower
        self._stopped = asyncio.Event()
        self._listener: Optional[psycopg.AsyncConnection[Any]] = None

    def stop(self) -> None:
        """As ``Subscription.stop``; call it in the event loop's thread
        (``loop.call_soon_threadsafe(sub.stop)`` from another)."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    async def _idle(self) -> bool:
        if await self.store._run(self.follower.caught_up()):
            if self.follower.until_caught_up:
                return False
            if self._listener is None:
                conninfo, kwargs = await connect_arguments(self.store.pool)
                self._listener = await psycopg.AsyncConnection.connect(conninfo, **{**kwargs, "autocommit": True})
                await self._listener.execute("LISTEN chronicle")
                return not self.stopped
            async for _ in self._listener.notifies(timeout=0.25, stop_after=1):
                pass
        return not self.stopped

    async def _close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None

    async def __aiter__(self) -> AsyncIterator[RecordedEvent]:
        try:
            while not self.stopped:
                batch = await self.store._run(self.follower.poll())
                if not batch:
                    if not await self._idle():
                        return
                    continue
                for event in batch:
                    yield event
                    if self.stopped:
                        return
                await self.store._run(self.follower.ack(batch))
        finally:
            await self._close()

    async def run(self, handler: Callable[[RecordedEvent, AsyncTransaction], Awaitable[None]]) -> None:
        """As ``Subscription.run``."""
        try:
            while not self.stopped:
                async with self.store.transaction() as tx:
                    batch = await tx._run(self.follower.poll())
                    for event in batch:
                        await handler(event, tx)
                    if batch:
                        await tx._run(self.follower.ack(batch))
                if not batch and not await self._idle():
                    return
        finally:
            await self._close()
